package carddav

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/contactsync/contactsync/engine/storage"
)

// Collection is one address book of a Client in the engine's vocabulary (package storage): it implements
// engine.Remote. Its errors keep the client's messages and also match the storage outcome they mean
// (storage.ErrPreconditionFailed for a 412, storage.ErrGone for a 404 or 410, storage.ErrUnavailable for what
// Retryable accepts, storage.ErrRejected for a final 4xx refusal of one contact, and so on).
type Collection struct {
	c   *Client
	url string
}

// Collection binds the client to the address book at abURL (absolute, or a path on the client's server).
func (c *Client) Collection(abURL string) *Collection { return &Collection{c: c, url: abURL} }

// Client returns the client the collection talks through.
func (col *Collection) Client() *Client { return col.c }

// URL returns the address book's URL as given.
func (col *Collection) URL() string { return col.url }

// Changes lists what changed since token with sync-collection (RFC 6578).
func (col *Collection) Changes(ctx context.Context, token string) (*storage.Page, error) {
	p, err := col.c.SyncCollection(ctx, col.url, token, 0)
	if err != nil {
		return nil, classify(err)
	}
	return &storage.Page{Token: p.Token, Changed: members(p.Changed), Deleted: p.Deleted, Rejected: rejected(p.Rejected), More: p.More}, nil
}

// List lists every member with a PROPFIND getetag listing.
func (col *Collection) List(ctx context.Context) (*storage.Listing, error) {
	l, err := col.c.ListETags(ctx, col.url)
	if err != nil {
		return nil, classify(err)
	}
	return &storage.Listing{Members: members(l.Members), Rejected: rejected(l.Rejected)}, nil
}

// Fetch fetches members with addressbook-multiget, one object per href asked. MultiGet answers a repeated href
// once; engine.Remote answers each href in its place, since callers match answers to hrefs by position.
func (col *Collection) Fetch(ctx context.Context, hrefs []string) ([]storage.Object, error) {
	objs, at, err := col.c.multiGet(ctx, col.url, hrefs)
	if err != nil {
		return nil, classify(err)
	}
	out := make([]storage.Object, len(at))
	for i, j := range at {
		out[i] = object(objs[j])
	}
	return out, nil
}

// FetchAll streams the whole address book from one addressbook-query.
func (col *Collection) FetchAll(ctx context.Context, fn func(storage.Object) error) error {
	var fnErr error
	err := col.c.QueryAll(ctx, col.url, func(o Object) error {
		fnErr = fn(object(o))
		return fnErr
	})
	if err != nil && fnErr != nil && errors.Is(err, fnErr) {
		return err // fn's own error, as is
	}
	return classify(err)
}

// Get fetches one member.
func (col *Collection) Get(ctx context.Context, href string) (*storage.Object, error) {
	o, err := col.c.Get(ctx, href)
	if err != nil {
		return nil, classify(err)
	}
	so := object(*o)
	return &so, nil
}

// Put writes a member with If-None-Match: * or If-Match. The tag is "" when the server answered without an
// ETag (Client.Write): the engine fetches the tags of a run of writes in one request.
func (col *Collection) Put(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error) {
	etag, err := col.c.Write(ctx, href, data, Condition{IfNoneMatch: cond.IfAbsent, IfMatch: ETag(cond.IfMatch)})
	return storage.Tag(etag), classify(err)
}

// Delete removes a member with If-Match.
func (col *Collection) Delete(ctx context.Context, href string, tag storage.Tag) error {
	return classify(col.c.Delete(ctx, href, ETag(tag)))
}

// HrefFor is HrefForUID in this address book.
func (col *Collection) HrefFor(uid string) string { return HrefForUID(col.url, uid) }

func object(o Object) storage.Object {
	return storage.Object{Href: o.Href, Tag: storage.Tag(o.ETag), Data: o.Data, Err: classify(o.Err)}
}

func members(ms []Member) []storage.Member {
	out := make([]storage.Member, len(ms))
	for i, m := range ms {
		out[i] = storage.Member{Href: m.Href, Tag: storage.Tag(m.ETag)}
	}
	return out
}

func rejected(rs []Rejected) []storage.Rejected {
	out := make([]storage.Rejected, len(rs))
	for i, r := range rs {
		out[i] = storage.Rejected{Href: r.Href, Err: r.Err}
	}
	return out
}

// classify adds to a client error the storage outcome it means; an error that means none stays as it is.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return err
	}
	var he *HTTPError
	isHTTP := errors.As(err, &he)
	switch {
	case errors.Is(err, ErrUnauthorized):
		return storage.Classify(err, storage.ErrCredentialsRejected, 0)
	case errors.Is(err, ErrPreconditionFailed):
		return storage.Classify(err, storage.ErrPreconditionFailed, 0)
	case errors.Is(err, ErrNotFound):
		return storage.Classify(err, storage.ErrGone, 0)
	case errors.Is(err, ErrInvalidSyncToken):
		return storage.Classify(err, storage.ErrInvalidToken, 0)
	case errors.Is(err, ErrNotSupported):
		return storage.Classify(err, storage.ErrNotSupported, 0)
	case Retryable(err):
		var wait time.Duration
		if isHTTP {
			wait = he.RetryAfter
		}
		return storage.Classify(err, storage.ErrUnavailable, wait)
	case isHTTP && refused(he.Status):
		return storage.Classify(err, storage.ErrRejected, 0)
	}
	return err
}

// refused reports a status that is a server's final "no" to one contact (403, 409, 413, 400, 415 …).
func refused(status int) bool {
	if status < 400 || status >= 500 {
		return false
	}
	switch status {
	case http.StatusUnauthorized, http.StatusNotFound, http.StatusGone, http.StatusRequestTimeout,
		http.StatusPreconditionFailed, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return true
}
