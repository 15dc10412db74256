package carddavserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// allowed is the Allow header of every resource; a method a resource does not take is 405.
const allowed = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL"

// handler serves the CardDAV tree of a Server.
type handler struct {
	s *Server
}

// request is one request being served: what it targets and who sent it.
type request struct {
	r    *http.Request
	w    *responseWriter
	t    target
	user string
}

func (h *handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rc := http.NewResponseController(rw)
	w := &responseWriter{ResponseWriter: rw, rc: rc, writeIdle: h.s.cfg.writeIdleTimeout, http1: r.ProtoMajor == 1}
	// A deadline the last response on this connection left must not cut off this one before it starts.
	w.noDeadline = rc.SetWriteDeadline(time.Time{}) != nil
	if r.Body != nil && r.Body != http.NoBody {
		w.body = &idleBody{ReadCloser: r.Body, rc: rc, idle: h.s.cfg.bodyIdleTimeout}
		r = r.WithContext(r.Context()) // a copy: a handler does not change the request it was given
		r.Body = w.body
	}
	req := &request{r: r, w: w}
	defer func() {
		p := recover()
		w.leaveBody()
		h.log(req, start, p)
		if p != nil {
			panic(p) // net/http turns it into a closed connection; http.ErrAbortHandler says so without noise
		}
	}()
	if err := h.serve(req); err != nil {
		h.fail(req, err)
	}
	// net/http sends a 200 for a handler that wrote nothing; it too must not wait for an unread body.
	w.begin(http.StatusOK)
}

func (h *handler) log(req *request, start time.Time, panicked any) {
	status := req.w.status
	if panicked != nil {
		status = -1 // the response was cut off
	}
	level := h.s.cfg.logger.Debug
	if status >= 500 || (panicked != nil && panicked != http.ErrAbortHandler) {
		level = h.s.cfg.logger.Error
	}
	level("carddavserver request", "method", req.r.Method, "path", clip(req.r.URL.Path), "status", status,
		"user", req.user, "bytes", req.w.written, "duration", time.Since(start))
}

func (h *handler) serve(req *request) error {
	r := req.r
	if err := h.s.live(); err != nil {
		return err
	}
	t, err := parseTarget(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	req.t = t
	switch {
	case r.Method == http.MethodOptions:
		// Capabilities say nothing about anyone's data: no login needed (RFC 4918 section 10.1).
		req.w.Header().Set("DAV", "1, 3, addressbook, extended-mkcol")
		req.w.Header().Set("Allow", allowed)
		req.w.WriteHeader(http.StatusOK)
		return nil
	case t.kind == kindRoot && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		req.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, err := io.WriteString(req.w, "contactsync CardDAV server: point your client at this URL\n")
		return err
	case t.kind == kindWellKnown:
		return h.wellKnown(req)
	}
	if err := h.authenticate(req); err != nil {
		return err
	}
	if t.user != "" && t.user != req.user {
		return failf(http.StatusForbidden, "%s may not access %s's collections", req.user, clip(t.user))
	}
	switch r.Method {
	case "PROPFIND":
		return h.propfind(req)
	case "PROPPATCH":
		return h.proppatch(req)
	case "REPORT":
		return h.report(req)
	case "MKCOL":
		return h.mkcol(req)
	case http.MethodGet, http.MethodHead:
		return h.get(req)
	case http.MethodPut:
		return h.put(req)
	case http.MethodDelete:
		return h.delete(req)
	}
	return methodNotAllowed()
}

func methodNotAllowed() error {
	return failf(http.StatusMethodNotAllowed, "method not allowed here")
}

// wellKnown redirects /.well-known/carddav (RFC 6764 section 5) to the user's principal when the request
// carries valid credentials, and to the root otherwise, whose PROPFIND names the principal after login. The
// target depends on who asks, so the redirect must not be cached for anyone else.
func (h *handler) wellKnown(req *request) error {
	loc := "/"
	if _, _, ok := req.r.BasicAuth(); ok && h.authenticate(req) == nil {
		loc = principalHref(req.user)
	}
	req.w.Header().Set("Cache-Control", "private, no-cache")
	req.w.Header().Set("Vary", "Authorization")
	http.Redirect(req.w, req.r, loc, http.StatusMovedPermanently)
	return nil
}

// authenticate checks the request's basic credentials and sets req.user.
func (h *handler) authenticate(req *request) error {
	user, password, ok := req.r.BasicAuth()
	if !ok {
		return failf(http.StatusUnauthorized, "log in with HTTP basic authentication")
	}
	ctx := req.r.Context()
	var stored string
	if ValidUserName(user) == nil {
		var err error
		if stored, err = h.s.acc.passwordHash(ctx, user); err != nil {
			return err
		}
	}
	good, err := h.s.auth.verify(ctx, user, password, stored)
	if err != nil {
		return err
	}
	if !good {
		return failf(http.StatusUnauthorized, "wrong user name or password")
	}
	req.user = user
	return nil
}

// fail answers a request that failed. Once a multistatus has started streaming the status line is gone, so
// the connection is cut instead: a client must never take a listing cut short for a complete one.
func (h *handler) fail(req *request, err error) {
	se := statusOf(err)
	if req.w.status != 0 {
		h.s.cfg.logger.Error("carddavserver: response cut short", "method", req.r.Method, "path", clip(req.r.URL.Path), "err", err)
		panic(http.ErrAbortHandler)
	}
	hdr := req.w.Header()
	msg := se.Error()
	switch se.status {
	case http.StatusUnauthorized:
		hdr.Set("WWW-Authenticate", `Basic realm="contactsync", charset="UTF-8"`)
	case http.StatusMethodNotAllowed:
		hdr.Set("Allow", allowed)
	case http.StatusNotModified:
		req.w.WriteHeader(se.status)
		return
	}
	if se.status >= 500 {
		h.s.cfg.logger.Error("carddavserver: request failed", "method", req.r.Method, "path", clip(req.r.URL.Path), "err", err)
		// The details are in the log; a client learns nothing from the internals.
		msg = http.StatusText(se.status)
	}
	if errors.Is(err, context.Canceled) {
		return // the client went away; nobody reads the answer
	}
	if se.cond.Local == "" {
		http.Error(req.w, msg, se.status)
		return
	}
	// A precondition goes in a DAV:error body (RFC 4918 section 16), with the clashing href for
	// no-uid-conflict (RFC 6352 section 6.3.2.1).
	hdr.Set("Content-Type", `application/xml; charset="utf-8"`)
	req.w.WriteHeader(se.status)
	x := newXMLWriter(req.w)
	x.raw(`<?xml version="1.0" encoding="utf-8"?>` + "\n<d:error" + rootNamespaces + ">")
	if se.href != "" {
		x.open(se.cond)
		x.element(davxml.Href, se.href)
		x.close(se.cond)
	} else {
		x.empty(se.cond)
	}
	x.raw("<d:responsedescription>")
	x.text(msg)
	x.raw("</d:responsedescription></d:error>")
	_ = x.flush() // the client may be gone; there is nobody left to tell
}

// depth reads the Depth header: "0", "1" or "infinity"; def when absent.
func depth(r *http.Request, def string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(r.Header.Get("Depth")))
	switch d {
	case "":
		return def, nil
	case "0", "1", "infinity":
		return d, nil
	}
	return "", failf(http.StatusBadRequest, "Depth must be 0, 1 or infinity")
}

// xmlBody returns the request body bounded by the XML size limit.
func (h *handler) xmlBody(req *request) io.Reader {
	return http.MaxBytesReader(req.w, req.r.Body, h.s.cfg.maxXMLSize)
}

// openBook returns the address book the request targets (a 404 when it does not exist).
func (h *handler) openBook(req *request) (*book, bookInfo, error) {
	ctx := req.r.Context()
	info, err := h.s.acc.book(ctx, req.t.user, req.t.book)
	if err != nil {
		return nil, info, err
	}
	b, err := h.s.book(ctx, info)
	return b, info, err
}

// responseWriter remembers the status and size of the response for the log, and whether it has started. It
// closes the connection after a response to a request whose body was not read to its end, and bounds how
// long each piece of a response may take to go out.
type responseWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	// body is the request's body; nil when it has none.
	body  *idleBody
	http1 bool
	// writeIdle bounds each write; noDeadline is set when the ResponseWriter has no deadlines.
	writeIdle  time.Duration
	noDeadline bool
	status     int
	written    int64
}

// writeChunk is the largest piece written under one write deadline. Each piece must go out within the write
// idle timeout, so the slowest download that succeeds moves 32 KiB per timeout (a minute by default), far
// below what a poor phone link does.
const writeChunk = 32 << 10

// begin notes the start of the response. A response to a request whose body was not read to its end (a
// refused login, a failed check) closes the connection: net/http would otherwise read what is left of the
// body before the response even goes out, to reuse the connection. Closing it costs an honest client one new
// connection after an error.
func (w *responseWriter) begin(code int) {
	if w.status != 0 {
		return
	}
	w.status = code
	if w.http1 && w.body != nil && !w.body.eof {
		w.Header().Set("Connection", "close")
	}
}

// unreadBodyLinger is how long net/http may go on reading a request body the handler left unread, once the
// response is out. It reads up to 256 KiB of one, at whatever pace the client sends it, before it closes the
// connection; a client that declared a body and sent one byte held the connection (and a file descriptor)
// for good. Within this bound an honest client's body that is on its way still arrives, and the connection
// closes cleanly instead of with a reset that could destroy the response before the client reads it.
const unreadBodyLinger = 500 * time.Millisecond

// leaveBody ends the handler's use of the request body: a body read to its end has its deadline taken off
// the connection (idleBody.disarm), and one left unread gets unreadBodyLinger to arrive.
func (w *responseWriter) leaveBody() {
	switch {
	case w.body == nil:
	case w.body.eof || !w.http1:
		w.body.disarm()
	case !w.body.noDeadline:
		_ = w.rc.SetReadDeadline(time.Now().Add(unreadBodyLinger)) // past it, the connection closes: the aim
	}
}

// armWrite gives the next piece of the response writeIdle to go out.
func (w *responseWriter) armWrite() {
	if !w.noDeadline {
		w.noDeadline = w.rc.SetWriteDeadline(time.Now().Add(w.writeIdle)) != nil
	}
}

func (w *responseWriter) WriteHeader(code int) {
	w.begin(code)
	w.armWrite()
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.begin(http.StatusOK)
	total := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), writeChunk)]
		w.armWrite()
		n, err := w.ResponseWriter.Write(chunk)
		total += n
		w.written += int64(n)
		if err != nil {
			return total, err
		}
		p = p[n:]
	}
	return total, nil
}

// Unwrap lets http.ResponseController reach the connection's own writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
