package carddavserver

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// idleBody is a request body that may stall for at most idle: before each read it moves the connection's
// read deadline to idle from now, so a body that keeps flowing may take as long as it needs (a large vCard
// over a slow phone link) while one that stops is cut off. A total timeout could not tell the two apart.
type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	idle time.Duration
	// armed is set while a read deadline of this body is on the connection; noDeadline once the
	// ResponseWriter turned out to have none (a recorder, a middleware that hides it), which leaves the body
	// unbounded in time.
	armed, noDeadline bool
	// eof is set once the body has been read to its end.
	eof bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if !b.noDeadline {
		if err := b.rc.SetReadDeadline(time.Now().Add(b.idle)); err != nil {
			b.noDeadline = true
		} else {
			b.armed = true
		}
	}
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.eof = true
		b.disarm()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, failf(http.StatusRequestTimeout, "the request body sent nothing for %s", b.idle)
	}
	return n, err
}

// disarm takes the body's deadline off the connection. net/http starts a read in the background when the
// body ends, to notice a client that goes away; a deadline left on the connection would end that read, and
// with it the request's context, in the middle of a long response.
func (b *idleBody) disarm() {
	if b.armed {
		_ = b.rc.SetReadDeadline(time.Time{}) // it was set a moment ago, so it can be cleared
		b.armed = false
	}
}
