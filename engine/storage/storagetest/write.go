package storagetest

import (
	"errors"
	"fmt"
	"sync"

	"github.com/contactsync/contactsync/engine/storage"
)

// testConditionalPut checks the conditions of Put: CreateOnly succeeds once, IfMatch succeeds with the current
// tag only, and a failed write changes nothing (above all, IfMatch on a deleted object must not bring it back).
func testConditionalPut(s *suite) {
	v1 := card("3.0", "conditional", "First Version")
	v2 := card("3.0", "conditional", "Second Version")
	v3 := card("3.0", "conditional", "Third Version")
	href, tag1 := s.create("conditional", v1)

	_, err := s.r.Put(s.ctx, href, v2, storage.CreateOnly())
	s.wantErr("Put(CreateOnly) where an object is", err, storage.ErrPreconditionFailed)
	s.get(href, tag1, v1)

	tag2 := s.update(href, tag1, v2)
	if tag2.Equal(tag1) {
		s.t.Errorf("the tag after an update, %q, Equals the tag before it, %q", tag2, tag1)
	}
	s.get(href, tag2, v2)

	_, err = s.r.Put(s.ctx, href, v3, storage.IfMatch(tag1))
	s.wantErr("Put(IfMatch(stale tag))", err, storage.ErrPreconditionFailed)
	s.get(href, tag2, v2)

	s.remove(href, tag2)
	_, err = s.r.Put(s.ctx, href, v3, storage.IfMatch(tag2))
	s.wantErr("Put(IfMatch(tag)) of a deleted object", err, storage.ErrPreconditionFailed, storage.ErrGone)
	s.gone(href)

	// The href is free again.
	tag4, err := s.r.Put(s.ctx, href, v3, storage.CreateOnly())
	if err != nil {
		s.t.Fatalf("Put(CreateOnly) at the href of a deleted object: %v", err)
	}
	tag4 = s.tagOf(href, tag4)
	s.get(href, tag4, v3)
}

// testGetDelete checks Get and Delete: a missing object is ErrGone, a Delete with a stale tag fails with
// ErrPreconditionFailed and leaves the object, one with the current tag removes it.
func testGetDelete(s *suite) {
	missing := s.r.HrefFor("never-written")
	_, err := s.r.Get(s.ctx, missing)
	s.wantErr("Get of an href never written", err, storage.ErrGone)

	v1 := card("4.0", "get-delete", "Before")
	v2 := card("4.0", "get-delete", "After")
	href, tag1 := s.create("get-delete", v1)
	s.get(href, tag1, v1)
	tag2 := s.update(href, tag1, v2)

	s.wantErr("Delete with a stale tag", s.r.Delete(s.ctx, href, tag1), storage.ErrPreconditionFailed)
	s.get(href, tag2, v2)

	s.remove(href, tag2)
	s.gone(href)
	// A conditional DELETE of nothing may say "gone" or "precondition failed": RFC 9110 section 13.1.1 makes an
	// If-Match false where there is no current representation (SabreDAV answers 412), while Radicale, Xandikos
	// and the embedded server answer 404. The engine takes either as "already deleted" after a read.
	s.wantErr("Delete of an object already deleted", s.r.Delete(s.ctx, href, tag2), storage.ErrGone, storage.ErrPreconditionFailed)
	s.wantErr("Delete of an href never written", s.r.Delete(s.ctx, missing, tag2), storage.ErrGone, storage.ErrPreconditionFailed)
	s.gone(href)
	if l := s.list(); len(l) != 0 {
		s.t.Errorf("List after the only object was deleted = %v; want nothing", l)
	}
}

// testTags checks that the tags a storage hands out tell versions apart under Tag.Equal: every way of reading
// an object gives a tag Equal to the one Put returned, and an update gives a tag no longer Equal to the old.
func testTags(s *suite) {
	v1 := card("3.0", "tags", "Tag One")
	v2 := card("3.0", "tags", "Tag Two")
	href, tag1 := s.create("tags", v1)
	if !tag1.Equal(tag1) {
		s.t.Errorf("tag %q does not Equal itself", tag1)
	}
	s.readTags(href, tag1, v1)
	tag2 := s.update(href, tag1, v2)
	if !tag2.Equal(tag2) {
		s.t.Errorf("tag %q does not Equal itself", tag2)
	}
	if tag2.Equal(tag1) || tag1.Equal(tag2) {
		s.t.Errorf("the tag of a new version, %q, Equals the old one's, %q", tag2, tag1)
	}
	s.readTags(href, tag2, v2)
}

// readTags reads the only object of the collection every way there is and checks its tag each time.
func (s *suite) readTags(href string, tag storage.Tag, data []byte) {
	s.t.Helper()
	s.get(href, tag, data)
	s.wantMembers("List", s.list(), map[string]storage.Tag{href: tag})
	if cs, err := s.changes(""); err == nil {
		s.wantMembers("Changes(\"\")", cs.changed, map[string]storage.Tag{href: tag})
	} else if !errors.Is(err, storage.ErrNotSupported) {
		s.t.Fatalf("Changes(\"\"): %v", err)
	}
	s.wantObjects("Fetch", s.fetch(href), map[string]storage.Tag{href: tag}, map[string][]byte{href: data})
	s.wantObjects("FetchAll", s.fetchAll(), map[string]storage.Tag{href: tag}, map[string][]byte{href: data})
}

// testUnconditionalPut checks the zero Condition: it creates where nothing is and replaces whatever is there.
func testUnconditionalPut(s *suite) {
	v1 := card("4.0", "unconditional", "Written Blindly")
	v2 := card("4.0", "unconditional", "Overwritten Blindly")
	href := s.r.HrefFor("unconditional")
	tag1, err := s.r.Put(s.ctx, href, v1, storage.Condition{})
	if err != nil {
		s.t.Fatalf("Put(%s) without a condition on a free href: %v", href, err)
	}
	tag1 = s.tagOf(href, tag1)
	s.get(href, tag1, v1)
	tag2, err := s.r.Put(s.ctx, href, v2, storage.Condition{})
	if err != nil {
		s.t.Fatalf("Put(%s) without a condition over an object: %v", href, err)
	}
	tag2 = s.tagOf(href, tag2)
	if tag2.Equal(tag1) {
		s.t.Errorf("the tag after an overwrite, %q, Equals the tag before it", tag2)
	}
	s.get(href, tag2, v2)
}

// racers is how many writers race for one href: enough that a storage checking a condition apart from the
// write it guards lets two through.
const racers = 4

// testRacingWrites checks that conditions hold when writers race, which is what they are for: of several
// devices creating the same contact at once exactly one succeeds (no duplicate, nothing silently overwritten),
// and of several updating the same version exactly one does. The others fail with ErrPreconditionFailed.
func testRacingWrites(s *suite) {
	href := s.r.HrefFor("racing")
	version := func(i int) []byte { return card("3.0", "racing", fmt.Sprintf("Racer %d", i)) }
	winner, tag := s.race("CreateOnly", href, version, func(int) storage.Condition { return storage.CreateOnly() })
	if winner < 0 {
		return
	}
	s.get(href, tag, version(winner))
	next := func(i int) []byte { return card("3.0", "racing", fmt.Sprintf("Updater %d", i)) }
	winner, tag2 := s.race("IfMatch", href, next, func(int) storage.Condition { return storage.IfMatch(tag) })
	if winner < 0 {
		return
	}
	s.get(href, tag2, next(winner))
}

// race runs racers Puts at href at once and returns the one that succeeded (-1 when not exactly one did) and
// its tag.
func (s *suite) race(what, href string, data func(int) []byte, cond func(int) storage.Condition) (int, storage.Tag) {
	s.t.Helper()
	tags := make([]storage.Tag, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-start
			tags[i], errs[i] = s.r.Put(s.ctx, href, data(i), cond(i))
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			s.t.Errorf("racing Put(%s): writers %d and %d both succeeded; want exactly one", what, winner, i)
			return -1, ""
		case err == nil:
			winner = i
		default:
			s.wantErr(fmt.Sprintf("racing Put(%s), writer %d", what, i), err, storage.ErrPreconditionFailed)
		}
	}
	if winner < 0 {
		s.t.Errorf("racing Put(%s): no writer succeeded; want exactly one", what)
		return -1, ""
	}
	return winner, s.tagOf(href, tags[winner])
}
