package storagetest

import (
	"errors"
	"regexp"
	"strings"

	"github.com/contactsync/contactsync/engine/storage"
)

// changeSet is what Changes(token) said, every page applied in order as the engine applies them.
type changeSet struct {
	token   string
	changed map[string]storage.Tag
	deleted map[string]bool
}

// maxPages bounds the pages of one answer: a storage that keeps saying More must not hang the suite.
const maxPages = 1000

// changes follows Changes from token until a page without More. It returns the storage's error as is, so a
// caller can accept storage.ErrNotSupported.
func (s *suite) changes(token string) (*changeSet, error) {
	s.t.Helper()
	cs := &changeSet{changed: map[string]storage.Tag{}, deleted: map[string]bool{}}
	from := token
	for range maxPages {
		p, err := s.r.Changes(s.ctx, from)
		if err != nil {
			return nil, err
		}
		if p.Token == "" {
			s.t.Fatalf("Changes(%q) gave a page without a token", from)
		}
		if len(p.Rejected) != 0 {
			s.t.Errorf("Changes(%q) rejected %v on a healthy storage", from, p.Rejected)
		}
		if from == "" && len(p.Deleted) != 0 {
			s.t.Errorf("Changes(\"\") lists deleted hrefs %v; an empty token's answer has none", p.Deleted)
		}
		page := s.members("Changes page", p.Changed)
		for _, href := range p.Deleted {
			if _, ok := page[href]; ok {
				s.t.Errorf("Changes(%q) lists %s as both changed and deleted in one page", from, href)
			}
			delete(cs.changed, href)
			cs.deleted[href] = true
		}
		for href, tag := range page {
			delete(cs.deleted, href)
			cs.changed[href] = tag
		}
		cs.token = p.Token
		if !p.More {
			return cs, nil
		}
		if p.Token == from {
			s.t.Fatalf("Changes(%q) says More but hands back the token it was given", from)
		}
		from = p.Token
	}
	s.t.Fatalf("Changes(%q) still says More after %d pages", token, maxPages)
	return nil, nil
}

// testChanges checks that an empty token lists every member with the tags Put returned, and that a token
// handed back then lists exactly what changed since: creates, an update, a delete, a contact deleted and created
// again at its href (changed, not deleted), and one created and deleted in between (listed as deleted or not
// at all, never as changed). The token of the empty collection works too. A storage without Changes
// (storage.ErrNotSupported) must show the same states through List instead.
func testChanges(s *suite) {
	empty, err := s.changes("")
	supported := !errors.Is(err, storage.ErrNotSupported)
	switch {
	case !supported:
		s.t.Logf("Changes: %v; checking List instead", err)
	case err != nil:
		s.t.Fatalf("Changes(\"\") of the empty collection: %v", err)
	case len(empty.changed) != 0:
		s.t.Errorf("Changes(\"\") of the empty collection lists %v", empty.changed)
	}

	keep, keepTag := s.create("changes-keep", card("3.0", "changes-keep", "Kept Unchanged"))
	upd, updTag := s.create("changes-update", card("4.0", "changes-update", "To Be Updated"))
	del, delTag := s.create("changes-delete", card("3.0", "changes-delete", "To Be Deleted"))
	re, reTag := s.create("changes-recreate", card("3.0", "changes-recreate", "Created Once"))
	// Deleted before the first listing: an initial listing must not show it, in Changed or Deleted (Radicale
	// reports such members as 404 even to an empty token).
	early, earlyTag := s.create("changes-early", card("3.0", "changes-early", "Deleted Early"))
	s.remove(early, earlyTag)
	start := map[string]storage.Tag{keep: keepTag, upd: updTag, del: delTag, re: reTag}
	s.wantMembers("List", s.list(), start)

	var token string
	if supported {
		fromEmpty, err := s.changes(empty.token)
		if err != nil {
			s.t.Fatalf("Changes(token of the empty collection): %v", err)
		}
		s.wantMembers("Changes(token of the empty collection)", fromEmpty.changed, start)
		for href := range fromEmpty.deleted {
			if href != early {
				s.t.Errorf("Changes(token of the empty collection) lists %s as deleted; only %s was", href, early)
			}
		}
		first, err := s.changes("")
		if err != nil {
			s.t.Fatalf("Changes(\"\"): %v", err)
		}
		s.wantMembers("Changes(\"\")", first.changed, start)
		token = first.token
	}

	created, createdTag := s.create("changes-created", card("4.0", "changes-created", "Created Later"))
	updTag2 := s.update(upd, updTag, card("4.0", "changes-update", "Updated Since"))
	s.remove(del, delTag)
	brief, briefTag := s.create("changes-brief", card("3.0", "changes-brief", "Here Briefly"))
	s.remove(brief, briefTag)
	s.remove(re, reTag)
	_, reTag2 := s.create("changes-recreate", card("3.0", "changes-recreate", "Created Twice"))
	end := map[string]storage.Tag{keep: keepTag, upd: updTag2, created: createdTag, re: reTag2}
	s.wantMembers("List after the changes", s.list(), end)
	if !supported {
		return
	}

	next, err := s.changes(token)
	if err != nil {
		s.t.Fatalf("Changes(token of the first listing): %v", err)
	}
	s.wantMembers("Changes(token)", next.changed, map[string]storage.Tag{created: createdTag, upd: updTag2, re: reTag2})
	if !next.deleted[del] {
		s.t.Errorf("Changes(token) does not list %s, deleted since, as deleted (deleted: %v)", del, next.deleted)
	}
	for href := range next.deleted {
		if href != del && href != brief {
			s.t.Errorf("Changes(token) lists %s as deleted; only %s (and maybe %s) was", href, del, brief)
		}
	}

	again, err := s.changes(next.token)
	if err != nil {
		s.t.Fatalf("Changes(current token): %v", err)
	}
	if len(again.changed) != 0 || len(again.deleted) != 0 {
		s.t.Errorf("Changes(current token) with nothing changed lists changed %v, deleted %v; want nothing", again.changed, again.deleted)
	}
	all, err := s.changes("")
	if err != nil {
		s.t.Fatalf("Changes(\"\") after the changes: %v", err)
	}
	s.wantMembers("Changes(\"\") after the changes", all.changed, end)
}

// testInvalidToken checks that a token the storage never issued is refused with storage.ErrInvalidToken, so
// the engine lists everything again, rather than taken as "nothing changed". The tokens tried: one of no shape
// at all, and two of the storage's own shape (a real token with its long hex runs zeroed, and one with a digit
// appended: for a counter that is a revision not reached yet).
func testInvalidToken(s *suite) {
	s.create("token-member", card("3.0", "token-member", "Token Member"))
	p, err := s.r.Changes(s.ctx, "")
	if errors.Is(err, storage.ErrNotSupported) {
		_, err := s.r.Changes(s.ctx, "storagetest-not-a-token")
		s.wantErr("Changes(bogus token) on a storage without Changes", err, storage.ErrNotSupported, storage.ErrInvalidToken)
		return
	}
	if err != nil {
		s.t.Fatalf("Changes(\"\"): %v", err)
	}
	tokens := []string{"storagetest-not-a-token", p.Token + "7"}
	if forged := regexp.MustCompile(`[0-9a-fA-F]{16,}`).ReplaceAllStringFunc(p.Token, func(h string) string {
		return strings.Repeat("0", len(h))
	}); forged != p.Token {
		tokens = append(tokens, forged)
	}
	for _, token := range tokens {
		p, err := s.r.Changes(s.ctx, token)
		if err == nil {
			s.t.Errorf("Changes(%q), a token never issued, succeeded with %d changed, %d deleted; want ErrInvalidToken",
				token, len(p.Changed), len(p.Deleted))
			continue
		}
		s.wantErr("Changes("+token+"), a token never issued", err, storage.ErrInvalidToken)
		if storage.Retryable(err) {
			s.t.Errorf("Changes(%q): %v is retryable; an invalid token stays invalid", token, err)
		}
	}
}
