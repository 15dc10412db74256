package carddav

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/contactsync/contactsync/adapters/internal/davxml"
)

// SyncPage is one answer to a sync-collection report (RFC 6578).
type SyncPage struct {
	// Token is the sync token to save once this page is applied, and to send next time.
	Token string
	// Changed lists members created or changed since the token sent (all members for an empty token).
	Changed []Member
	// Deleted lists hrefs removed since the token sent. It is always empty for an empty token: Radicale
	// reports long-deleted members as 404 even then, and an initial listing has nothing to delete.
	Deleted []string
	// Rejected lists entries left out (see Rejected).
	Rejected []Rejected
	// More says the server truncated the answer (507 on the collection itself, RFC 6578 section 3.6):
	// apply this page, then call again with Token.
	More bool
}

// SyncCollection asks what changed in the address book since token ("" for everything) with a
// sync-collection report, at most limit members per page if limit > 0 and the server honours it (Radicale
// 3.1.8 and Xandikos 0.2.8 do not). A token the server no longer accepts gives an error matching
// ErrInvalidSyncToken: call again with "" and reconcile the full listing. A server without the report gives
// an error matching ErrNotSupported: use ListETags.
//
// Before the first sync of a collection from an empty token, the client asks its DAV:supported-report-set
// (RFC 3253 section 3.1.5, which RFC 6578 section 3 uses to advertise the report) and remembers the answer: a
// collection that lists reports without sync-collection (SabreDAV 1.8) is never sent one. A token proves the
// server answered one before, so a sync from a token asks nothing first.
func (c *Client) SyncCollection(ctx context.Context, abURL, token string, limit int) (*SyncPage, error) {
	col, base, err := c.collection(abURL)
	if err != nil {
		return nil, fmt.Errorf("carddav: sync-collection %s: %w", clip(abURL), err)
	}
	if token == "" {
		sup, err := c.syncSupport(ctx, col)
		if err != nil {
			return nil, err
		}
		if sup == reportAbsent {
			return nil, fmt.Errorf("carddav: sync-collection %s: %w: not in the collection's supported-report-set", col, ErrNotSupported)
		}
	}
	page, err := c.syncCollection(ctx, col, base, token, limit)
	var he *HTTPError
	if !errors.As(err, &he) {
		return page, err
	}
	switch {
	case he.Status == http.StatusInsufficientStorage && he.Condition == nsDAV+" number-of-matches-within-limits" && limit > 0:
		// The server cannot cut its answer at our limit (RFC 6578 section 3.7); it must answer in full.
		c.cfg.logger.DebugContext(ctx, "carddav: server refused the sync limit; asking without one", "path", col)
		return c.syncCollection(ctx, col, base, token, 0)
	case errors.Is(he, ErrNotSupported):
		c.reports.set(col, reportAbsent)
	case he.Status == http.StatusInternalServerError && token != "":
		// Xandikos 0.2.8 answers 500 to a token it does not know (it looks the token up as a git object). If
		// the collection answers a PROPFIND and reports another token, ours is what failed: a full resync
		// is then the way out, while retrying would fail forever.
		if ab, perr := c.AddressBook(ctx, col); perr == nil && ab.SyncToken != token {
			he.cause = ErrInvalidSyncToken
		}
	}
	return nil, he
}

// reportSupport is what a collection's supported-report-set says of a report.
type reportSupport int

const (
	reportUnknown reportSupport = iota // no supported-report-set, or not asked yet: try the report
	reportListed
	reportAbsent
)

// reportCache remembers, per collection path, whether its supported-report-set lists sync-collection.
type reportCache struct {
	mu   sync.Mutex
	sync map[string]reportSupport
}

func (rc *reportCache) get(col string) (reportSupport, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	s, ok := rc.sync[col]
	return s, ok
}

func (rc *reportCache) set(col string, s reportSupport) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.sync == nil {
		rc.sync = make(map[string]reportSupport)
	}
	rc.sync[col] = s
}

// syncSupport asks, once per collection, whether its supported-report-set lists sync-collection. A
// collection that answers without the property, or a PROPFIND refused for a reason other than credentials,
// leaves it unknown, and the report is tried as before; a failure that would fail the report too (refused
// credentials, an outage, an answer that does not parse) is returned.
func (c *Client) syncSupport(ctx context.Context, col string) (reportSupport, error) {
	if s, ok := c.reports.get(col); ok {
		return s, nil
	}
	_, r, err := c.propfindOne(ctx, col, []xml.Name{davxml.SupportedReportSet})
	var he *HTTPError
	switch {
	case err == nil:
	case errors.As(err, &he) && !errors.Is(err, ErrUnauthorized) && !he.Retryable():
		c.cfg.logger.DebugContext(ctx, "carddav: no supported-report-set; trying sync-collection", "path", col, "err", err)
		return reportUnknown, nil
	default:
		return reportUnknown, err
	}
	s := reportUnknown
	if srs := r.prop(davxml.SupportedReportSet.Space, davxml.SupportedReportSet.Local); srs != nil && len(srs.children) > 0 {
		s = reportAbsent
		if srs.has(nsDAV, "sync-collection") {
			s = reportListed
		}
	}
	c.reports.set(col, s)
	return s, nil
}

func (c *Client) syncCollection(ctx context.Context, col string, base *url.URL, token string, limit int) (*SyncPage, error) {
	body := xmlBody(nsDAV, "sync-collection", func(b *bytes.Buffer) {
		writeText(b, "d:sync-token", token)
		b.WriteString("<d:sync-level>1</d:sync-level>")
		if limit > 0 {
			b.WriteString("<d:limit><d:nresults>" + strconv.Itoa(limit) + "</d:nresults></d:limit>")
		}
		writeProp(b, []xml.Name{davxml.GetETag})
	})
	page := &SyncPage{}
	newToken, err := c.multistatus(ctx, request{method: "REPORT", path: col, header: xmlHeader("0"), body: body},
		func(r *msResponse) error {
			for _, h := range r.hrefs {
				p, self, err := memberOf(base, col, h)
				switch {
				case err != nil:
					page.Rejected = append(page.Rejected, Rejected{Href: clip(h), Err: err})
				case self:
					page.More = page.More || r.status == http.StatusInsufficientStorage
				case strings.HasSuffix(p, "/"):
					// A sub-collection is not a contact.
				case r.status == http.StatusNotFound || r.status == http.StatusGone:
					if token != "" {
						page.Deleted = append(page.Deleted, p)
					}
				case r.status != 0 && r.status/100 != 2:
					page.Rejected = append(page.Rejected, Rejected{Href: p, Err: memberError("REPORT", p, r.status)})
				default:
					page.Changed = append(page.Changed, Member{Href: p, ETag: ETag(r.prop(nsDAV, "getetag").trimmed())})
				}
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	if newToken == "" {
		return nil, fmt.Errorf("carddav: REPORT %s: %w: sync-collection answer without a sync-token", col, ErrMalformedResponse)
	}
	page.Token = newToken
	return page, nil
}
