package storagetest

import (
	"errors"
	"fmt"

	"github.com/contactsync/contactsync/engine/storage"
)

// fetch is Fetch of hrefs, which must answer one object per href in the order asked.
func (s *suite) fetch(hrefs ...string) []storage.Object {
	s.t.Helper()
	objs, err := s.r.Fetch(s.ctx, hrefs)
	if err != nil {
		s.t.Fatalf("Fetch(%v): %v", hrefs, err)
	}
	if len(objs) != len(hrefs) {
		s.t.Fatalf("Fetch of %d hrefs gave %d objects; want one per href", len(hrefs), len(objs))
	}
	for i, o := range objs {
		if o.Href != hrefs[i] {
			s.t.Errorf("Fetch: object %d is %q; want %q, in the order asked", i, o.Href, hrefs[i])
		}
	}
	return objs
}

// fetchAll is every object FetchAll hands to its callback.
func (s *suite) fetchAll() []storage.Object {
	s.t.Helper()
	var objs []storage.Object
	if err := s.r.FetchAll(s.ctx, func(o storage.Object) error {
		objs = append(objs, o)
		return nil
	}); err != nil {
		s.t.Fatalf("FetchAll: %v", err)
	}
	return objs
}

// wantObjects fails unless objs are exactly the objects of tags, each once, with its tag and data's content.
func (s *suite) wantObjects(what string, objs []storage.Object, tags map[string]storage.Tag, data map[string][]byte) {
	s.t.Helper()
	seen := map[string]bool{}
	for _, o := range objs {
		tag, ok := tags[o.Href]
		switch {
		case !ok:
			s.t.Errorf("%s gives %q, which the suite never wrote or has deleted (Err %v)", what, o.Href, o.Err)
		case seen[o.Href]:
			s.t.Errorf("%s gives %s twice", what, o.Href)
		default:
			s.object(what, &o, o.Href, tag, data[o.Href])
		}
		seen[o.Href] = true
	}
	for href := range tags {
		if !seen[href] {
			s.t.Errorf("%s leaves out %s", what, href)
		}
	}
}

// written is what the suite wrote to a collection: each href's tag and data.
type written struct {
	tags map[string]storage.Tag
	data map[string][]byte
}

// fill creates n small contacts (both vCard versions) and the rich cards, and returns what it wrote.
func (s *suite) fill(prefix string, n int) written {
	s.t.Helper()
	w := written{tags: map[string]storage.Tag{}, data: map[string][]byte{}}
	for i := range n {
		uid := fmt.Sprintf("%s-%d", prefix, i)
		w.add(s, uid, card([]string{"3.0", "4.0"}[i%2], uid, fmt.Sprintf("%s Contact %d", prefix, i)))
	}
	for _, rc := range richCards {
		w.add(s, rc.uid, rc.data)
	}
	return w
}

func (w written) add(s *suite, uid string, data []byte) string {
	s.t.Helper()
	href, tag := s.create(uid, data)
	w.tags[href], w.data[href] = tag, data
	return href
}

// testContent checks that what is read back, by every way of reading, is the content written: a storage may
// re-serialize a card, but not change what it says.
func testContent(s *suite) {
	w := written{tags: map[string]storage.Tag{}, data: map[string][]byte{}}
	var hrefs []string
	for _, rc := range richCards {
		href := w.add(s, rc.uid, rc.data)
		hrefs = append(hrefs, href)
		s.get(href, w.tags[href], rc.data)
	}
	s.wantObjects("Fetch", s.fetch(hrefs...), w.tags, w.data)
	s.wantObjects("FetchAll", s.fetchAll(), w.tags, w.data)
}

// testList checks that List gives every member with its current tag, and nothing deleted.
func testList(s *suite) {
	w := s.fill("list", 4)
	s.wantMembers("List", s.list(), w.tags)

	upd, del := s.r.HrefFor("list-0"), s.r.HrefFor("list-1")
	w.data[upd] = card("3.0", "list-0", "Listed Again")
	w.tags[upd] = s.update(upd, w.tags[upd], w.data[upd])
	s.remove(del, w.tags[del])
	delete(w.tags, del)
	s.wantMembers("List after an update and a delete", s.list(), w.tags)
}

// testFetch checks that Fetch answers in the order asked, one object per href (a repeated one too), and that an href holding
// nothing (never written, or deleted) is an object with Err matching ErrGone while the others are fine.
func testFetch(s *suite) {
	if objs, err := s.r.Fetch(s.ctx, nil); err != nil || len(objs) != 0 {
		s.t.Errorf("Fetch of no hrefs = %d objects, %v; want none and no error", len(objs), err)
	}
	w := s.fill("fetch", 3)
	a, b, c := s.r.HrefFor("fetch-0"), s.r.HrefFor("fetch-1"), s.r.HrefFor("fetch-2")
	missing := s.r.HrefFor("fetch-never-written")
	s.remove(b, w.tags[b])
	// a twice: a caller may match answers to hrefs by position, so a duplicate gets its own answer.
	hrefs := []string{c, missing, a, b, a}
	for i, o := range s.fetch(hrefs...) {
		switch href := hrefs[i]; href {
		case missing, b:
			if !errors.Is(o.Err, storage.ErrGone) {
				s.t.Errorf("Fetch: object %s, which holds nothing, has Err %v and %d bytes; want Err matching ErrGone", href, o.Err, len(o.Data))
			}
		default:
			s.object("Fetch", &o, href, w.tags[href], w.data[href])
		}
	}
}

// errStop is what the suite's FetchAll callback returns to stop the stream.
var errStop = errors.New("storagetest: stop here")

// testFetchAll checks that FetchAll streams every member once on a healthy storage, and that an error of its
// callback stops the stream and comes back as is.
func testFetchAll(s *suite) {
	if objs := s.fetchAll(); len(objs) != 0 {
		s.t.Errorf("FetchAll of an empty collection gave %d objects; want none", len(objs))
	}
	w := s.fill("fetchall", 5)
	s.wantObjects("FetchAll", s.fetchAll(), w.tags, w.data)

	calls := 0
	err := s.r.FetchAll(s.ctx, func(storage.Object) error {
		calls++
		return fmt.Errorf("callback %d: %w", calls, errStop)
	})
	if !errors.Is(err, errStop) {
		s.t.Errorf("FetchAll whose callback failed returned %v; want the callback's error", err)
	}
	if calls != 1 {
		s.t.Errorf("FetchAll called its callback %d times after it failed the first time; want it to stop", calls-1)
	}
}
