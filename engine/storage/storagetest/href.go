package storagetest

import (
	"fmt"
	"strings"

	"github.com/contactsync/contactsync/engine/storage"
)

// awkwardUIDs are UIDs other clients really write (URNs, e-mail addresses) and ones no storage can use as a
// name as they are: separators, query and fragment marks, escapes, dot segments, spaces, non-ASCII, sheer
// length, and two that differ only in case.
var awkwardUIDs = []string{
	"plain-uid@example.org",
	"urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
	"a/b",
	"a?b=c",
	"a#b",
	"with spaces",
	"ünïcødé",
	"../../escape",
	"%2F%2e%2e",
	".hidden",
	"~tilde",
	strings.Repeat("long", 100),
	"Case",
	"case",
}

// testHrefFor checks that HrefFor is deterministic, gives every UID its own href, and that the href works: a
// contact created there reads back from there, is listed under it, and a second upload of the same contact
// meets the first instead of making a duplicate.
func testHrefFor(s *suite) {
	seen := map[string]string{}
	want := map[string]storage.Tag{}
	for i, uid := range awkwardUIDs {
		href := s.r.HrefFor(uid)
		if href == "" {
			s.t.Errorf("HrefFor(%q) is empty", uid)
			continue
		}
		if again := s.r.HrefFor(uid); again != href {
			s.t.Errorf("HrefFor(%q) gave %q, then %q; want the same href every time", uid, href, again)
		}
		if other, dup := seen[href]; dup {
			s.t.Errorf("HrefFor gives %q and %q the same href %q", other, uid, href)
			continue
		}
		seen[href] = uid
		data := card("3.0", uid, fmt.Sprintf("Contact %d", i))
		_, tag := s.create(uid, data)
		want[href] = tag
		s.get(href, tag, data)
		_, err := s.r.Put(s.ctx, s.r.HrefFor(uid), data, storage.CreateOnly())
		s.wantErr(fmt.Sprintf("second upload of %q with CreateOnly", uid), err, storage.ErrPreconditionFailed)
	}
	s.wantMembers("List", s.list(), want)
}
