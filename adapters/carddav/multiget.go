package carddav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// MultiGet fetches contacts of the address book with addressbook-multiget reports (RFC 6352 section 8.7)
// of at most WithMultiGetBatch hrefs each, several batches at once within WithMaxConcurrency. It returns one
// Object per distinct href asked, in the order asked; a member the server reports missing comes back with Err
// matching ErrNotFound, and the call as a whole fails only when a batch does. A batch whose answer is over
// WithMaxXMLSize, or a server without the report, is fetched with one GET per member instead.
//
// vCards travel inside XML there, and XML parsing turns CRLF into LF; the CRLF line ends RFC 6350 requires
// are put back, so the bytes equal what a GET returns for a vCard stored with CRLF.
func (c *Client) MultiGet(ctx context.Context, abURL string, hrefs []string) ([]Object, error) {
	objs, _, err := c.multiGet(ctx, abURL, hrefs)
	return objs, err
}

// multiGet is MultiGet that also tells which object answers each href asked: objs[at[i]] for hrefs[i].
func (c *Client) multiGet(ctx context.Context, abURL string, hrefs []string) (objs []Object, at []int, err error) {
	col, base, err := c.collection(abURL)
	if err != nil {
		return nil, nil, fmt.Errorf("carddav: multiget %s: %w", clip(abURL), err)
	}
	objs = make([]Object, 0, len(hrefs))
	at = make([]int, len(hrefs))
	index := make(map[string]int, len(hrefs))
	var todo []string
	for i, h := range hrefs {
		p, self, err := memberOf(base, col, h)
		if err == nil && (self || strings.HasSuffix(p, "/")) {
			err = fmt.Errorf("%w: %s is a collection, not a contact", ErrBadHref, p)
		}
		if err != nil {
			at[i] = len(objs)
			objs = append(objs, Object{Href: clip(h), Err: err})
			continue
		}
		if j, dup := index[p]; dup {
			at[i] = j
			continue
		}
		index[p] = len(objs)
		at[i] = len(objs)
		objs = append(objs, Object{Href: p})
		todo = append(todo, p)
	}

	batches := make(chan []string)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	workers := min(c.cfg.concurrency, (len(todo)+c.cfg.batch-1)/c.cfg.batch)
	for range workers {
		wg.Go(func() {
			for batch := range batches {
				// Each batch writes only its own entries of objs, so workers never touch the same element.
				if err := c.multigetBatch(ctx, col, base, batch, objs, index); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
feed:
	for start := 0; start < len(todo); start += c.cfg.batch {
		select {
		case batches <- todo[start:min(start+c.cfg.batch, len(todo))]:
		case <-ctx.Done():
			break feed
		}
	}
	close(batches)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("carddav: multiget %s: %w", col, context.Cause(ctx))
	}
	if firstErr != nil {
		return nil, nil, firstErr
	}
	return objs, at, nil
}

func (c *Client) multigetBatch(ctx context.Context, col string, base *url.URL, batch []string, objs []Object, index map[string]int) error {
	if ctx.Err() != nil {
		return nil
	}
	body := xmlBody(nsCardDAV, "addressbook-multiget", func(b *bytes.Buffer) {
		writeProp(b, []xml.Name{davxml.GetETag, davxml.AddressData})
		for _, p := range batch {
			writeText(b, "d:href", p)
		}
	})
	pending := make(map[string]bool, len(batch))
	for _, p := range batch {
		pending[p] = true
	}
	_, err := c.multistatus(ctx, request{method: "REPORT", path: col, header: xmlHeader("1"), body: body},
		func(r *msResponse) error {
			for _, h := range r.hrefs {
				p, _, err := memberOf(base, col, h)
				if err != nil || !pending[p] {
					continue // not something this batch asked for
				}
				delete(pending, p)
				c.fillObject(&objs[index[p]], r)
			}
			return nil
		})
	var he *HTTPError
	switch {
	case err == nil:
	case errors.Is(err, ErrResponseTooLarge), errors.Is(err, ErrNotSupported):
		c.cfg.logger.DebugContext(ctx, "carddav: multiget batch fetched one by one", "path", col, "err", err)
		return c.getEach(ctx, batch, objs, index)
	case errors.As(err, &he) && he.Status == http.StatusNotFound:
		// SabreDAV 1.8 answers the whole report 404 when one href is missing, where RFC 6352 section 8.7
		// wants a 404 response for that href: halve the batch until the missing ones stand alone.
		if len(batch) == 1 {
			objs[index[batch[0]]].Err = memberError("REPORT", batch[0], http.StatusNotFound)
			return nil
		}
		half := len(batch) / 2
		if err := c.multigetBatch(ctx, col, base, batch[:half], objs, index); err != nil {
			return err
		}
		return c.multigetBatch(ctx, col, base, batch[half:], objs, index)
	default:
		return err
	}
	for p := range pending {
		objs[index[p]].Err = fmt.Errorf("carddav: multiget %s: %w", p, ErrIncompleteResponse)
	}
	return nil
}

// fillObject sets an Object from its multiget response.
func (c *Client) fillObject(o *Object, r *msResponse) {
	if r.status != 0 && r.status/100 != 2 {
		o.Err = memberError("REPORT", o.Href, r.status)
		return
	}
	ad := r.prop(nsCardDAV, "address-data")
	if ad == nil {
		status := http.StatusNotFound
		for _, ps := range r.propstats {
			if ps.status/100 != 2 && ps.prop.child(nsCardDAV, "address-data") != nil {
				status = ps.status
			}
		}
		o.Err = memberError("REPORT", o.Href, status)
		return
	}
	data := restoreCRLF(ad.text)
	switch {
	case int64(len(data)) > c.cfg.maxObject:
		o.Err = fmt.Errorf("carddav: multiget %s: %w", o.Href, ErrResponseTooLarge)
	default:
		if err := checkVCard(data); err != nil {
			o.Err = fmt.Errorf("carddav: multiget %s: %w", o.Href, err)
			return
		}
		o.ETag = ETag(r.prop(nsDAV, "getetag").trimmed())
		o.Data = data
	}
}

// getEach fetches a batch member by member; a member's own failure (gone, not a vCard, too large) stays
// with the member, anything else fails the batch.
func (c *Client) getEach(ctx context.Context, batch []string, objs []Object, index map[string]int) error {
	for _, p := range batch {
		o, err := c.Get(ctx, p)
		switch {
		case err == nil:
			objs[index[p]] = *o
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrMalformedResponse), errors.Is(err, ErrResponseTooLarge):
			objs[index[p]].Err = err
		default:
			return err
		}
	}
	return nil
}

// restoreCRLF trims the white space XML pretty-printing may add around a vCard and turns each LF not
// already preceded by CR into CRLF.
func restoreCRLF(text []byte) []byte {
	text = bytes.TrimLeft(text, " \t\r\n")
	text = bytes.TrimRight(text, " \t")
	out := make([]byte, 0, len(text)+bytes.Count(text, []byte("\n")))
	for i, b := range text {
		if b == '\n' && (i == 0 || text[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, b)
	}
	return out
}
