package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/contactsync/contactsync/adapters/carddav/carddavtest"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/storage"
)

// TestSuiteCatchesBrokenRemotes checks the suite itself: each case wraps a real Remote (the CardDAV client on
// the embedded server) so that it breaks one promise of the contract, and the part of the suite about that
// promise must fail, saying why. A wrapper that pages Changes correctly must pass.
func TestSuiteCatchesBrokenRemotes(t *testing.T) {
	for _, tc := range []struct {
		name string
		part string // the case of the suite that must notice
		wrap func(engine.Remote) engine.Remote
		want string // in the failure message; "" when the part must pass
	}{
		{"HrefFor not deterministic", "HrefFor", func(r engine.Remote) engine.Remote {
			n := 0
			return &faulty{Remote: r, hrefFor: func(uid string) string { n++; return r.HrefFor(fmt.Sprint(uid, n)) }}
		}, "want the same href every time"},
		{"HrefFor folds case", "HrefFor", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, hrefFor: func(uid string) string { return r.HrefFor(strings.ToLower(uid)) }}
		}, "the same href"},
		{"CreateOnly ignored", "conditional Put", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, put: func(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error) {
				cond.IfAbsent = false
				return r.Put(ctx, href, data, cond)
			}}
		}, "Put(CreateOnly) where an object is"},
		{"IfMatch on a deleted object creates it", "conditional Put", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, put: func(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error) {
				if _, err := r.Get(ctx, href); errors.Is(err, storage.ErrGone) {
					cond = storage.Condition{}
				}
				return r.Put(ctx, href, data, cond)
			}}
		}, "of a deleted object"},
		{"a stale IfMatch ignored", "conditional Put", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, put: func(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error) {
				return r.Put(ctx, href, data, storage.Condition{IfAbsent: cond.IfAbsent})
			}}
		}, "Put(IfMatch(stale tag))"},
		{"CreateOnly checked apart from the write", "racing writes", checkThenCreate, "both succeeded"},
		{"Get loses ErrGone", "Get and Delete", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, get: func(ctx context.Context, href string) (*storage.Object, error) {
				o, err := r.Get(ctx, href)
				if err != nil {
					err = fmt.Errorf("get: %v", err)
				}
				return o, err
			}}
		}, "Get of an href never written"},
		{"Delete ignores the tag", "Get and Delete", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, del: func(ctx context.Context, href string, _ storage.Tag) error {
				o, err := r.Get(ctx, href)
				if err != nil {
					return err
				}
				return r.Delete(ctx, href, o.Tag)
			}}
		}, "Delete with a stale tag"},
		{"a property lost on the way back", "content read back", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, get: func(ctx context.Context, href string) (*storage.Object, error) {
				o, err := r.Get(ctx, href)
				if err == nil {
					o.Data = dropLines(o.Data, "NOTE")
				}
				return o, err
			}}
		}, "content read back differs"},
		{"Changes ignores the token", "Changes", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, changes: func(ctx context.Context, _ string) (*storage.Page, error) { return r.Changes(ctx, "") }}
		}, "should not"},
		{"Changes forgets deletions", "Changes", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, changes: func(ctx context.Context, token string) (*storage.Page, error) {
				p, err := r.Changes(ctx, token)
				if err == nil {
					p.Deleted = nil
				}
				return p, err
			}}
		}, "as deleted"},
		{"Changes without support", "Changes", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, changes: func(context.Context, string) (*storage.Page, error) {
				return nil, storage.ErrNotSupported
			}}
		}, ""},
		{"Changes in pages of one member", "Changes", func(r engine.Remote) engine.Remote { return &pager{Remote: r} }, ""},
		{"an unknown token taken as no change", "Changes with an invalid token", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, changes: func(ctx context.Context, token string) (*storage.Page, error) {
				p, err := r.Changes(ctx, token)
				if errors.Is(err, storage.ErrInvalidToken) {
					return &storage.Page{Token: token}, nil
				}
				return p, err
			}}
		}, "a token never issued, succeeded"},
		{"List leaves out a member", "List", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, list: func(ctx context.Context) (*storage.Listing, error) {
				l, err := r.List(ctx)
				if err == nil && len(l.Members) > 0 {
					l.Members = l.Members[1:]
				}
				return l, err
			}}
		}, "List leaves out"},
		{"Fetch answers out of order", "Fetch", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, fetch: func(ctx context.Context, hrefs []string) ([]storage.Object, error) {
				objs, err := r.Fetch(ctx, hrefs)
				slices.Reverse(objs)
				return objs, err
			}}
		}, "in the order asked"},
		{"Fetch hides a missing object", "Fetch", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, fetch: func(ctx context.Context, hrefs []string) ([]storage.Object, error) {
				objs, err := r.Fetch(ctx, hrefs)
				for i := range objs {
					objs[i].Err = nil
				}
				return objs, err
			}}
		}, "which holds nothing"},
		{"FetchAll swallows the callback's error", "FetchAll", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, fetchAll: func(ctx context.Context, fn func(storage.Object) error) error {
				return r.FetchAll(ctx, func(o storage.Object) error { _ = fn(o); return nil })
			}}
		}, "want the callback's error"},
		{"FetchAll leaves out a member", "FetchAll", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, fetchAll: func(ctx context.Context, fn func(storage.Object) error) error {
				first := true
				return r.FetchAll(ctx, func(o storage.Object) error {
					if first {
						first = false
						return nil
					}
					return fn(o)
				})
			}}
		}, "FetchAll leaves out"},
		{"one tag for every version", "tags", func(r engine.Remote) engine.Remote {
			return &faulty{Remote: r, put: func(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error) {
				_, err := r.Put(ctx, href, data, storage.Condition{IfAbsent: cond.IfAbsent})
				return `"always-the-same"`, err
			}}
		}, "Equals the old one's"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := carddavtest.Start(t, "embedded")
			r := tc.wrap(srv.Client(t).Collection(srv.AddressBookURL))
			rec := runRecorded(t, tc.part, r)
			switch {
			case tc.want == "" && rec.failed():
				t.Errorf("%q failed on a Remote that keeps the contract:\n%s", tc.part, rec.report())
			case tc.want != "" && !rec.failed():
				t.Errorf("%q passed a Remote that breaks it (%s)", tc.part, tc.name)
			case tc.want != "" && !strings.Contains(rec.report(), tc.want):
				t.Errorf("%q failed, but not saying %q:\n%s", tc.part, tc.want, rec.report())
			}
		})
	}
}

// runRecorded runs the part of the suite called name on r with failures recorded instead of reported.
func runRecorded(t *testing.T, name string, r engine.Remote) *recorder {
	t.Helper()
	i := slices.IndexFunc(cases, func(c part) bool { return c.name == name })
	if i < 0 {
		t.Fatalf("no part of the suite is called %q", name)
	}
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runCase(rec, cases[i].run, r)
	}()
	<-done
	return rec
}

// recorder is the test a part of the suite runs under when the suite itself is tested: it keeps the failures
// the part reports, and passes everything else (logs, cleanups, the context) to the real test.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
	fail bool
}

func (r *recorder) record(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = true
	if msg != "" {
		r.msgs = append(r.msgs, msg)
	}
}

func (r *recorder) Error(args ...any)                 { r.record(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.record(fmt.Sprintf(format, args...)) }
func (r *recorder) Fail()                             { r.record("") }
func (r *recorder) Fatal(args ...any)                 { r.record(fmt.Sprint(args...)); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) {
	r.record(fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recorder) FailNow()     { r.record(""); runtime.Goexit() }
func (r *recorder) Failed() bool { return r.failed() }

func (r *recorder) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fail
}

func (r *recorder) report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

// faulty is a Remote with some methods replaced; the others go to the Remote it wraps.
type faulty struct {
	engine.Remote
	hrefFor  func(string) string
	put      func(context.Context, string, []byte, storage.Condition) (storage.Tag, error)
	get      func(context.Context, string) (*storage.Object, error)
	del      func(context.Context, string, storage.Tag) error
	changes  func(context.Context, string) (*storage.Page, error)
	list     func(context.Context) (*storage.Listing, error)
	fetch    func(context.Context, []string) ([]storage.Object, error)
	fetchAll func(context.Context, func(storage.Object) error) error
}

func (f *faulty) HrefFor(uid string) string {
	if f.hrefFor != nil {
		return f.hrefFor(uid)
	}
	return f.Remote.HrefFor(uid)
}

func (f *faulty) Put(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error) {
	if f.put != nil {
		return f.put(ctx, href, data, cond)
	}
	return f.Remote.Put(ctx, href, data, cond)
}

func (f *faulty) Get(ctx context.Context, href string) (*storage.Object, error) {
	if f.get != nil {
		return f.get(ctx, href)
	}
	return f.Remote.Get(ctx, href)
}

func (f *faulty) Delete(ctx context.Context, href string, tag storage.Tag) error {
	if f.del != nil {
		return f.del(ctx, href, tag)
	}
	return f.Remote.Delete(ctx, href, tag)
}

func (f *faulty) Changes(ctx context.Context, token string) (*storage.Page, error) {
	if f.changes != nil {
		return f.changes(ctx, token)
	}
	return f.Remote.Changes(ctx, token)
}

func (f *faulty) List(ctx context.Context) (*storage.Listing, error) {
	if f.list != nil {
		return f.list(ctx)
	}
	return f.Remote.List(ctx)
}

func (f *faulty) Fetch(ctx context.Context, hrefs []string) ([]storage.Object, error) {
	if f.fetch != nil {
		return f.fetch(ctx, hrefs)
	}
	return f.Remote.Fetch(ctx, hrefs)
}

func (f *faulty) FetchAll(ctx context.Context, fn func(storage.Object) error) error {
	if f.fetchAll != nil {
		return f.fetchAll(ctx, fn)
	}
	return f.Remote.FetchAll(ctx, fn)
}

// checkThenCreate implements CreateOnly as a Get and then an unconditional Put, and holds the first racers
// writers between the two until all of them have looked: the race a storage without an atomic create loses.
func checkThenCreate(r engine.Remote) engine.Remote {
	var mu sync.Mutex
	looked := 0
	all := make(chan struct{})
	return &faulty{Remote: r, put: func(ctx context.Context, href string, data []byte, cond storage.Condition) (storage.Tag, error) {
		if !cond.IfAbsent {
			return r.Put(ctx, href, data, cond)
		}
		_, err := r.Get(ctx, href)
		mu.Lock()
		looked++
		if looked == racers {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
		case <-ctx.Done():
			return "", ctx.Err()
		}
		if !errors.Is(err, storage.ErrGone) {
			return "", storage.Classify(errors.New("exists"), storage.ErrPreconditionFailed, 0)
		}
		return r.Put(ctx, href, data, storage.Condition{})
	}}
}

// pager hands out the answers of Changes one member per page (deletions on the last), under tokens of its
// own: a correct paging storage, which the suite must follow to the end.
type pager struct {
	engine.Remote
	mu      sync.Mutex
	n       int
	pending map[string]*storage.Page // the rest of an answer, by the token of the page before it
}

func (p *pager) Changes(ctx context.Context, token string) (*storage.Page, error) {
	p.mu.Lock()
	rest, ok := p.pending[token]
	delete(p.pending, token)
	p.mu.Unlock()
	if !ok {
		var err error
		if rest, err = p.Remote.Changes(ctx, token); err != nil {
			return nil, err
		}
	}
	if len(rest.Changed) <= 1 {
		return rest, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	next := fmt.Sprintf("storagetest-page-%d", p.n)
	if p.pending == nil {
		p.pending = map[string]*storage.Page{}
	}
	p.pending[next] = &storage.Page{Token: rest.Token, Changed: rest.Changed[1:], Deleted: rest.Deleted, More: rest.More}
	return &storage.Page{Token: next, Changed: rest.Changed[:1], More: true}, nil
}

// dropLines removes the content lines of property name (and their continuation lines) from a vCard.
func dropLines(data []byte, name string) []byte {
	var out [][]byte
	dropping := false
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if !dropping {
				out = append(out, line)
			}
			continue
		}
		dropping = bytes.HasPrefix(bytes.ToUpper(line), []byte(name+":")) || bytes.HasPrefix(bytes.ToUpper(line), []byte(name+";"))
		if !dropping {
			out = append(out, line)
		}
	}
	return bytes.Join(out, nil)
}
