package storagetest

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactsync/contactsync/adapters/vcard"
	"github.com/contactsync/contactsync/engine"
	"github.com/contactsync/contactsync/engine/storage"
)

// caseTimeout bounds one part of the suite; a storage that hangs fails it instead of the whole test binary.
const caseTimeout = 2 * time.Minute

// Run checks that the Remotes newRemote returns keep the contract of engine.Remote, one named subtest per part
// of it. newRemote is called once per subtest and must return a Remote bound to a new, empty collection, so
// that the subtests do not see each other's objects; it stops whatever it starts with t.Cleanup.
func Run(t *testing.T, newRemote func(t *testing.T) engine.Remote) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runCase(t, c.run, newRemote(t)) })
	}
}

// runCase runs one part of the suite on r, whose collection must be empty.
func runCase(t testing.TB, run func(*suite), r engine.Remote) {
	t.Helper()
	s := begin(t, r)
	if l := s.list(); len(l) != 0 {
		t.Fatalf("newRemote gave a collection holding %v; want an empty one", l)
	}
	run(s)
}

// part is one part of the contract and the check of it, run against an empty collection.
type part struct {
	name string
	run  func(*suite)
}

// cases are the parts of the contract.
var cases = []part{
	{"HrefFor", testHrefFor},
	{"conditional Put", testConditionalPut},
	{"unconditional Put", testUnconditionalPut},
	{"racing writes", testRacingWrites},
	{"Get and Delete", testGetDelete},
	{"content read back", testContent},
	{"Changes", testChanges},
	{"Changes with an invalid token", testInvalidToken},
	{"List", testList},
	{"Fetch", testFetch},
	{"FetchAll", testFetchAll},
	{"tags", testTags},
}

// suite is one part of the suite running: the test, a deadline and the Remote under test.
type suite struct {
	t   testing.TB
	ctx context.Context
	r   engine.Remote
	// reads and verbatim count the cards read back with the content written, and those of them in the
	// very bytes written: a note on the storage, not a requirement.
	reads, verbatim atomic.Int64
}

func begin(t testing.TB, r engine.Remote) *suite {
	ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
	s := &suite{t: t, ctx: ctx, r: r}
	t.Cleanup(func() {
		cancel()
		if n, v := s.reads.Load(), s.verbatim.Load(); n > v {
			t.Logf("%d of %d cards read back in other bytes with the same content (the storage re-serializes cards)", n-v, n)
		}
	})
	return s
}

// create puts a new contact at HrefFor(uid) and returns its href and tag.
func (s *suite) create(uid string, data []byte) (string, storage.Tag) {
	s.t.Helper()
	href := s.r.HrefFor(uid)
	tag, err := s.r.Put(s.ctx, href, data, storage.CreateOnly())
	if err != nil {
		s.t.Fatalf("Put(%s, CreateOnly) of a new contact %q: %v", href, uid, err)
	}
	return href, s.tagOf(href, tag)
}

// tagOf is the tag a Put returned, or, when it returned none (the contract allows it: the storage did not
// say), the tag the object has when read back, which must then be known.
func (s *suite) tagOf(href string, put storage.Tag) storage.Tag {
	s.t.Helper()
	if put != "" {
		return put
	}
	o, err := s.r.Get(s.ctx, href)
	if err != nil {
		s.t.Fatalf("Put(%s) returned no tag, and reading it back failed: %v", href, err)
	}
	if o.Tag == "" {
		s.t.Fatalf("Put(%s) returned no tag, and Get gives none either", href)
	}
	return o.Tag
}

// update replaces the version tag names and returns the new tag.
func (s *suite) update(href string, tag storage.Tag, data []byte) storage.Tag {
	s.t.Helper()
	newTag, err := s.r.Put(s.ctx, href, data, storage.IfMatch(tag))
	if err != nil {
		s.t.Fatalf("Put(%s, IfMatch(current tag %s)): %v", href, tag, err)
	}
	return s.tagOf(href, newTag)
}

func (s *suite) remove(href string, tag storage.Tag) {
	s.t.Helper()
	if err := s.r.Delete(s.ctx, href, tag); err != nil {
		s.t.Fatalf("Delete(%s, current tag %s): %v", href, tag, err)
	}
}

// get fetches href, which must hold a version with tag and the content of want.
func (s *suite) get(href string, tag storage.Tag, want []byte) {
	s.t.Helper()
	o, err := s.r.Get(s.ctx, href)
	if err != nil {
		s.t.Fatalf("Get(%s): %v", href, err)
	}
	s.object("Get", o, href, tag, want)
}

// object checks one object read back: its href, tag and content.
func (s *suite) object(what string, o *storage.Object, href string, tag storage.Tag, want []byte) {
	s.t.Helper()
	if o.Err != nil {
		s.t.Errorf("%s(%s): object has Err %v; want the contact", what, href, o.Err)
		return
	}
	if o.Href != href {
		s.t.Errorf("%s(%s): object's Href is %q; want the href asked (the engine matches hrefs byte for byte)", what, href, o.Href)
	}
	if !o.Tag.Equal(tag) {
		s.t.Errorf("%s(%s): tag %q; want one Equal to %q, the tag Put returned", what, href, o.Tag, tag)
	}
	s.sameContent(what+"("+href+")", o.Data, want)
}

// sameContent compares what a storage gave back with what was written: a storage may re-serialize a card
// (Radicale sorts its properties), so the comparison is of content; equal bytes are only noted.
func (s *suite) sameContent(what string, got, want []byte) {
	s.t.Helper()
	wantC, err := vcard.Content(want)
	if err != nil {
		s.t.Fatalf("the suite's own card does not parse: %v\n%s", err, want)
	}
	gotC, err := vcard.Content(got)
	if err != nil {
		s.t.Errorf("%s: the card read back does not parse: %v\n%q", what, err, got)
		return
	}
	if !slices.Equal(gotC, wantC) {
		s.t.Errorf("%s: content read back differs from what was written:\n wrote %q\n  read %q", what, want, got)
		return
	}
	s.reads.Add(1)
	if bytes.Equal(got, want) {
		s.verbatim.Add(1)
	}
}

// wantErr fails unless err matches one of the outcomes in want.
func (s *suite) wantErr(what string, err error, want ...error) {
	s.t.Helper()
	for _, w := range want {
		if errors.Is(err, w) {
			return
		}
	}
	s.t.Errorf("%s: error %v; want one matching %v", what, err, want)
}

// gone fails unless href holds nothing.
func (s *suite) gone(href string) {
	s.t.Helper()
	o, err := s.r.Get(s.ctx, href)
	if err == nil {
		s.t.Errorf("Get(%s) = version %s; want ErrGone", href, o.Tag)
		return
	}
	s.wantErr("Get("+href+")", err, storage.ErrGone)
}

// list is List as a map of href to tag; a Rejected entry or a member listed twice fails the test, since a
// healthy storage holding only the suite's cards has neither.
func (s *suite) list() map[string]storage.Tag {
	s.t.Helper()
	l, err := s.r.List(s.ctx)
	if err != nil {
		s.t.Fatalf("List: %v", err)
	}
	if len(l.Rejected) != 0 {
		s.t.Errorf("List rejected %v on a healthy storage", l.Rejected)
	}
	return s.members("List", l.Members)
}

func (s *suite) members(what string, ms []storage.Member) map[string]storage.Tag {
	s.t.Helper()
	out := make(map[string]storage.Tag, len(ms))
	for _, m := range ms {
		if _, dup := out[m.Href]; dup {
			s.t.Errorf("%s lists %s twice", what, m.Href)
		}
		out[m.Href] = m.Tag
	}
	return out
}

// wantMembers fails unless got holds exactly the hrefs of want, each with a tag Equal to want's.
func (s *suite) wantMembers(what string, got, want map[string]storage.Tag) {
	s.t.Helper()
	for href, tag := range want {
		switch g, ok := got[href]; {
		case !ok:
			s.t.Errorf("%s leaves out %s", what, href)
		case !g.Equal(tag):
			s.t.Errorf("%s gives %s the tag %q; want one Equal to %q, the tag Put returned", what, href, g, tag)
		}
	}
	for href := range got {
		if _, ok := want[href]; !ok {
			s.t.Errorf("%s lists %s, which it should not (never written, deleted, or unchanged)", what, href)
		}
	}
}
