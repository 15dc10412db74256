package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine/storage"
)

// maxConflictRounds bounds the fetch-merge-retry loop of one upload.
const maxConflictRounds = 5

// push replays the changelog from the remote's cursor and writes every contact the device changed to the server.
// The cursor moves only when the whole replay is done; the mirror, written as uploads succeed, makes a replay
// cut short cheap to resume (contacts already holding the uploaded bytes are skipped). Each batch of uploads is
// announced in the mirror (pending) before it is sent, so an upload whose answer a crash lost is recognised as
// the device's own afterwards, not taken for another client's change.
func (s *Syncer) push(ctx context.Context, rs remoteState, st *Stats) error {
	cursor, err := s.cursor(ctx)
	if err != nil {
		return err
	}
	ids, done, err := pending(ctx, s.store, s.name, cursor)
	if errors.Is(err, changelog.ErrFutureRevision) {
		// The store was replaced by an older one: replay everything; the mirror skips what the server holds.
		s.cfg.logger.Warn("cursor is ahead of the store; replaying the whole store", "remote", s.name, "cursor", cursor)
		cursor = 0
		ids, done, err = pending(ctx, s.store, s.name, 0)
	}
	if err != nil {
		return fmt.Errorf("push to %s: replay: %w", s.name, err)
	}
	if len(ids) == 0 && done == cursor {
		return nil
	}
	s.checked = s.checked || rs.rewrites != 0
	s.rewrites = s.rewrites || rs.rewrites == rewritesBytes
	var b batch
	n := 0
	for chunk := range slices.Chunk(ids, s.cfg.batch) {
		if err := s.pushChunk(ctx, chunk, &b, st); err != nil {
			if cerr := s.commit(ctx, &b, nil); cerr != nil {
				s.cfg.logger.Warn("could not record finished uploads", "remote", s.name, "err", cerr)
			}
			return fmt.Errorf("push to %s: %w", s.name, err)
		}
		if err := s.commit(ctx, &b, nil); err != nil {
			return fmt.Errorf("push to %s: %w", s.name, err)
		}
		n += len(chunk)
		s.progress("push", n, len(ids))
	}
	if err := s.commit(ctx, &b, func(tx *changelog.Tx) error { return tx.SetCursor(CursorName(s.name), done) }); err != nil {
		return fmt.Errorf("push to %s: save cursor: %w", s.name, err)
	}
	return nil
}

// pushPlan is what one contact needs: an upload of body, a delete, or nothing.
type pushPlan struct {
	c       changelog.Contact
	present bool
	m       *mirror
	body    []byte
}

// pushChunk plans a chunk, announces its uploads in one transaction, then performs them.
func (s *Syncer) pushChunk(ctx context.Context, ids []string, b *batch, st *Stats) error {
	if err := s.settleDoubts(ctx, ids, st); err != nil {
		return err
	}
	var plans []*pushPlan
	for _, id := range ids {
		p, err := s.plan(ctx, id, st)
		if err != nil {
			return err
		}
		if p != nil {
			plans = append(plans, p)
		}
	}
	err := s.store.Update(ctx, func(tx *changelog.Tx) error {
		for _, p := range plans {
			if !p.present {
				continue
			}
			if p.m == nil {
				p.m = &mirror{ContactID: p.c.ID, Href: s.remote.HrefFor(p.c.ID)}
			}
			intent := *p.m
			intent.Pending = p.body
			if err := s.ledger(tx).putMirror(intent); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("announce uploads: %w", err)
	}
	for _, p := range plans {
		if !p.present {
			err = s.pushDelete(ctx, p.m, b, st)
		} else {
			err = s.upload(ctx, p.c, p.body, p.m, b, st)
		}
		if err != nil {
			return err
		}
	}
	return s.checkUploads(ctx, b, st)
}

// checkUploads fetches back, in one request, the uploads of the batch whose outcome the push is not sure of: a
// storage may answer a write without its new tag (RFC 6352 allows it when the server changed what it stores),
// and one may keep other bytes than it was sent and still answer with a strong tag (RFC 6352 section 6.3.2.3
// says it must not; Radicale 3.1.8 sorts properties and drops trailing empty ORG components). One request per
// batch replaces a lookup per contact. The first batch uploaded to a storage is checked so that a rewriting one is
// found (the finding is kept in the ledger: a storage that keeps its bytes is not asked again), and a storage
// found rewriting has every batch read back. What the storage stores is what every other device will download, so
// where it differs only by such rewriting the device takes the storage's bytes: otherwise devices would end up
// with different bytes for the same contact.
func (s *Syncer) checkUploads(ctx context.Context, b *batch, st *Stats) error {
	if len(b.unsure) == 0 {
		return nil
	}
	hrefs := make([]string, len(b.unsure))
	for i, idx := range b.unsure {
		hrefs[i] = b.puts[idx].Href
	}
	var objs []storage.Object
	if err := s.call(ctx, st, "multiget", func() (err error) {
		objs, err = s.remote.Fetch(ctx, hrefs)
		return err
	}); err != nil {
		return err
	}
	first := !s.checked
	s.checked = true
	for i, idx := range b.unsure {
		if objs[i].Err == nil {
			s.compareStored(b, idx, objs[i])
		}
		// An object that cannot be read back keeps the row as the write left it: without a tag, the next push
		// fetches before it writes.
	}
	b.unsure = b.unsure[:0]
	if first && !s.rewrites {
		b.verdict = keepsBytes
	}
	return nil
}

// compareStored records what the storage holds for the upload b.puts[idx], read back as o.
func (s *Syncer) compareStored(b *batch, idx int, o storage.Object) {
	row := &b.puts[idx]
	switch {
	case bytes.Equal(o.Data, row.Base):
		if row.Tag == "" {
			row.Tag = o.Tag
		}
	case rewrittenOnly(row.Base, o.Data):
		if !s.rewrites {
			s.cfg.logger.Info("the server rewrites what it stores; taking its bytes", "remote", s.name, "href", o.Href)
		}
		if !s.rewrites {
			b.verdict = rewritesBytes
		}
		s.rewrites = true
		row.Base, row.Tag = o.Data, o.Tag
		b.adopt = append(b.adopt, idx)
	default:
		// Someone wrote there after the upload. With the upload's own tag the pull fetches theirs and merges;
		// without it the row keeps no tag, so the next push fetches before it writes.
	}
}

func (s *Syncer) cursor(ctx context.Context) (uint64, error) {
	c, err := s.store.Cursor(ctx, CursorName(s.name))
	if errors.Is(err, changelog.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("cursor of %s: %w", s.name, err)
	}
	return c, nil
}

// pending lists the contacts a push to the remote must look at, and the revision the replay is consistent with:
// those changed after cursor, except changes that all came from the remote itself (never echo a remote's
// change back) and contacts from a non-syncable source; plus the mirror's unfinished business — uploads whose
// outcome a crash hid, and contacts the remote holds that the device no longer has (a delete the replay folded
// away, a clear, a cursor older than the kept history).
func pending(ctx context.Context, store *changelog.Store, name string, cursor uint64) (ids []string, done uint64, err error) {
	origin := changelog.FromRemote(name)
	seen := make(map[string]struct{})
	for task, err := range store.Sync(ctx, cursor) {
		if err != nil {
			return nil, 0, err
		}
		switch task.Op {
		case changelog.OpClear:
			continue
		case changelog.OpDone:
			done = task.Rev
			continue
		case changelog.OpAdd, changelog.OpUpdate:
			if task.Contact.Source != "" {
				continue
			}
		}
		if task.OnlyFrom(origin) {
			continue
		}
		if _, ok := seen[task.ID]; !ok {
			seen[task.ID] = struct{}{}
			ids = append(ids, task.ID)
		}
	}
	var unfinished []string
	err = store.View(ctx, func(tx *changelog.Tx) (err error) {
		unfinished, err = ledger{tx: tx, remote: name}.unfinished()
		return err
	})
	for _, id := range unfinished {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	if err != nil {
		return nil, 0, err
	}
	return ids, done, nil
}

// plan decides what the server needs for a contact as it is now (not as the replay saw it: a later version is
// just as good to send, and a contact deleted since is deleted). An upload left in doubt by a crash is settled
// first.
func (s *Syncer) plan(ctx context.Context, id string, st *Stats) (*pushPlan, error) {
	p := &pushPlan{present: true}
	err := s.store.View(ctx, func(tx *changelog.Tx) error {
		var err error
		p.c, err = tx.Get(id)
		if errors.Is(err, changelog.ErrNotFound) {
			p.present = false
		} else if err != nil {
			return err
		}
		p.m, err = s.ledger(tx).mirrorByID(id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if p.m != nil && p.m.Pending != nil {
		if p.m, err = s.settleDoubt(ctx, p.m, st); err != nil {
			return nil, err
		}
	}
	switch {
	case !p.present && p.m == nil:
		return nil, nil
	case !p.present:
		return p, nil
	case p.c.Source != "":
		return nil, nil
	}
	p.body = uploadBytes(p.c)
	if p.m != nil && p.m.Base != nil && sameContent(p.body, p.m.Base) {
		return nil, nil
	}
	return p, nil
}

// settleDoubts settles, with one multiget, the uploads among ids that a crash left in doubt: after a kill in
// the middle of a batch there can be a whole batch of them, and one request per contact would make a worker
// that is killed often never get further.
func (s *Syncer) settleDoubts(ctx context.Context, ids []string, st *Stats) error {
	var doubts []*mirror
	err := s.store.View(ctx, func(tx *changelog.Tx) error {
		doubts = doubts[:0]
		for _, id := range ids {
			m, err := s.ledger(tx).mirrorByID(id)
			if err != nil {
				return err
			}
			if m != nil && m.Pending != nil {
				doubts = append(doubts, m)
			}
		}
		return nil
	})
	if err != nil || len(doubts) == 0 {
		return err
	}
	hrefs := make([]string, len(doubts))
	for i, m := range doubts {
		hrefs[i] = m.Href
	}
	var objs []storage.Object
	if err := s.call(ctx, st, "multiget", func() (err error) {
		objs, err = s.remote.Fetch(ctx, hrefs)
		return err
	}); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx *changelog.Tx) error {
		for i, m := range doubts {
			o := objs[i]
			switch {
			case o.Err == nil:
				_, err = resolveDoubt(s.ledger(tx), m, o.Data, o.Tag)
			case errors.Is(o.Err, storage.ErrGone):
				_, err = resolveDoubt(s.ledger(tx), m, nil, "")
			default:
				continue // left in doubt; plan fetches it alone
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// settleDoubt finds out whether an upload whose answer was lost reached the server: if the href holds its
// content, the upload is recorded as agreed; otherwise the row goes back to what it was before (a first upload
// that never landed leaves no row). It returns the row as it now stands, nil for none.
func (s *Syncer) settleDoubt(ctx context.Context, m *mirror, st *Stats) (*mirror, error) {
	var obj *storage.Object
	err := s.call(ctx, st, "get "+m.Href, func() (err error) {
		obj, err = s.remote.Get(ctx, m.Href)
		return err
	})
	if err != nil && !errors.Is(err, storage.ErrGone) {
		return nil, err
	}
	var data []byte
	var etag storage.Tag
	if err == nil {
		data, etag = obj.Data, obj.Tag
	}
	var out *mirror
	err = s.store.Update(ctx, func(tx *changelog.Tx) error {
		var err error
		out, err = resolveDoubt(s.ledger(tx), m, data, etag)
		return err
	})
	return out, err
}

// resolveDoubt records the outcome of an upload in doubt, given what the server holds at its href now (nil
// data when nothing). The server's copy may be the upload in other bytes (servers re-serialize): same content
// means it landed.
func resolveDoubt(l ledger, m *mirror, data []byte, etag storage.Tag) (*mirror, error) {
	row := *m
	switch {
	case data != nil && sameContent(data, m.Pending):
		row.Base, row.Tag = m.Pending, etag
	case data != nil && rewrittenOnly(m.Pending, data):
		// The upload landed and the server rewrote it: what it holds is the agreed version. The device's copy
		// differs only by that rewriting; the next push uploads it once more and reads back the server's bytes.
		row.Base, row.Tag = data, etag
	case data != nil && m.Base == nil:
		// A create, and the server holds another version at its href: most likely the create landed and
		// another client edited it since. Forgetting the create would make the next upload merge without a
		// base, which undoes the device's removals since; instead what both versions share is the base, and no
		// ETag is agreed, so the next upload fetches and merges rather than overwrite.
		row.Base, row.Tag = commonPart(m.Pending, data), ""
	case m.Base == nil:
		return nil, l.deleteMirror(m.ContactID)
	}
	row.Pending = nil
	return &row, l.putMirror(row)
}

// upload writes a contact: If-None-Match: * at the href its UID gives for a new one, If-Match its mirrored ETag
// for a known one. A 412 means someone else wrote first: fetch their version, merge three ways, retry.
func (s *Syncer) upload(ctx context.Context, c changelog.Contact, body []byte, m *mirror, b *batch, st *Stats) error {
	href, cond, base := m.Href, storage.CreateOnly(), []byte(nil)
	if m.Base != nil {
		cond, base = storage.IfMatch(m.Tag), m.Base
	}
	// Without an agreed ETag there is no condition to write under: fetch first.
	put := m.Base == nil || m.Tag != ""
	merged := false // whether body is a merge the device does not hold yet
	var conflicts []changelog.Conflict
	// agreed records that the server holds body under etag.
	// agreed records that the server holds body under etag; stored is what it holds there when the push read it
	// (nil when it did not).
	agreed := func(etag storage.Tag, stored []byte) error {
		st.Uploaded++
		row := mirror{ContactID: c.ID, Href: href, Tag: etag, Base: body, LocalRev: c.Rev}
		if !merged {
			b.puts = append(b.puts, row)
			b.resolved = append(b.resolved, c.ID)
			switch {
			case stored != nil:
				s.compareStored(b, len(b.puts)-1, storage.Object{Href: href, Tag: etag, Data: stored})
			case etag == "" || !s.checked || s.rewrites:
				b.unsure = append(b.unsure, len(b.puts)-1)
			}
			return nil
		}
		return s.settle(ctx, b, c, true, row, conflicts, st)
	}
	for range maxConflictRounds {
		if put {
			var etag storage.Tag
			err := s.call(ctx, st, "put "+href, func() (err error) {
				etag, err = s.remote.Put(ctx, href, body, cond)
				return err
			})
			if err == nil {
				return agreed(etag, nil)
			}
			lost := errors.Is(err, storage.ErrPreconditionFailed) || (cond.IfMatch != "" && errors.Is(err, storage.ErrGone))
			if !lost {
				if errors.Is(err, storage.ErrRejected) {
					return s.setAsidePush(ctx, b, m, err, st)
				}
				return err
			}
		}
		put = true
		var obj *storage.Object
		err := s.call(ctx, st, "get "+href, func() (err error) {
			obj, err = s.remote.Get(ctx, href)
			return err
		})
		if errors.Is(err, storage.ErrGone) {
			// Deleted on the server while the device edited it: the edit beats the delete.
			cond = storage.CreateOnly()
			continue
		}
		if err != nil {
			return err
		}
		if rewrittenOnly(body, obj.Data) {
			// The server holds what the device sends: its own write, whose answer a reset lost before the retry
			// met it as a 412 (or the same edit made elsewhere). Nothing to merge.
			return agreed(obj.Tag, obj.Data)
		}
		if base == nil {
			base = commonPart(body, obj.Data)
		}
		res, err := s.merge(base, body, obj.Data)
		if errors.Is(err, errUnmergeable) {
			return s.setAsidePush(ctx, b, m, err, st)
		}
		if err != nil {
			return fmt.Errorf("merge %s: %w", c.ID, err)
		}
		conflicts = append(conflicts, res.Conflicts...)
		if sameContent(res.Data, obj.Data) {
			return s.settle(ctx, b, c, false, mirror{ContactID: c.ID, Href: href, Tag: obj.Tag, Base: obj.Data}, conflicts, st)
		}
		// From the PUT on, the server may hold the merge even if its answer never arrives. Its decisions are
		// recorded first: a merge met on the server after a crash agrees with the device's side where it won,
		// so merging again would not find (nor record) the values it dropped.
		if len(res.Conflicts) > 0 {
			if err := s.commit(ctx, b, func(tx *changelog.Tx) error {
				return s.ledger(tx).recordConflicts(c.ID, res.Conflicts)
			}); err != nil {
				return err
			}
		}
		body, base, cond, merged = res.Data, obj.Data, storage.IfMatch(obj.Tag), true
	}
	return fmt.Errorf("push %s: %w", c.ID, ErrTooManyConflicts)
}

// settle records an agreement reached through a merge: the device takes the agreed bytes (unless it changed the
// contact again meanwhile; then the mirror keeps the old base and the next push merges the newer edit) and the
// mirror records them, in one transaction with the merge's conflicts. uploaded says the device uploaded the
// merge (its conflicts were recorded before the upload) rather than found it on the server. Either way the
// device's copy is written with the remote's origin: the remote holds exactly these bytes now, so the next
// push to it has nothing to send (written as a local change it would sit in the replay as one change pending
// until then), while every other remote still gets it.
func (s *Syncer) settle(ctx context.Context, b *batch, c changelog.Contact, uploaded bool, row mirror, conflicts []changelog.Conflict, st *Stats) error {
	var adopted, stale bool
	err := s.commit(ctx, b, func(tx *changelog.Tx) error {
		adopted, stale = false, false
		cur, err := tx.Get(c.ID)
		if errors.Is(err, changelog.ErrNotFound) || (err == nil && cur.Rev != c.Rev) {
			stale = true
			return nil
		}
		if err != nil {
			return err
		}
		row.LocalRev = cur.Rev
		if !bytes.Equal(uploadBytes(cur), row.Base) {
			nc, err := tx.Replace(s.origin, changelog.Contact{ID: c.ID, Data: row.Base, Source: cur.Source})
			if err != nil {
				return err
			}
			row.LocalRev, adopted = nc.Rev, true
		}
		if err := s.ledger(tx).putMirror(row); err != nil {
			return err
		}
		if err := s.ledger(tx).clearAside(asidePush, c.ID); err != nil {
			return err
		}
		return s.ledger(tx).recordConflicts(c.ID, conflicts)
	})
	if err != nil {
		return err
	}
	if !stale {
		st.Merged++
		st.Conflicts += len(conflicts)
		if adopted && !uploaded {
			st.Downloaded++
		}
		if uploaded && (row.Tag == "" || !s.checked || s.rewrites) {
			// An uploaded merge is read back like any upload (checkUploads); its row, already committed, is
			// written again with the batch, adopting the server's bytes where it rewrote them.
			b.puts = append(b.puts, row)
			b.unsure = append(b.unsure, len(b.puts)-1)
		}
	}
	return nil
}

// pushDelete deletes a contact the device deleted, if the server still holds the version the device saw (in
// whatever bytes). A newer version there wins: an edit beats a delete, and the contact comes back to the device.
func (s *Syncer) pushDelete(ctx context.Context, m *mirror, b *batch, st *Stats) error {
	etag := m.Tag
	for range maxConflictRounds {
		// Without an agreed ETag the server's version is not one the device saw: fetch it first.
		if etag != "" {
			err := s.call(ctx, st, "delete "+m.Href, func() error { return s.remote.Delete(ctx, m.Href, etag) })
			switch {
			case err == nil:
				st.DeletedRemote++
				b.dels = append(b.dels, m.ContactID)
				return nil
			case errors.Is(err, storage.ErrGone):
				b.dels = append(b.dels, m.ContactID)
				return nil
			case !errors.Is(err, storage.ErrPreconditionFailed):
				if errors.Is(err, storage.ErrRejected) {
					return s.setAsidePush(ctx, b, m, err, st)
				}
				return err
			}
		}
		var obj *storage.Object
		err := s.call(ctx, st, "get "+m.Href, func() (err error) {
			obj, err = s.remote.Get(ctx, m.Href)
			return err
		})
		if errors.Is(err, storage.ErrGone) {
			b.dels = append(b.dels, m.ContactID)
			return nil
		}
		if err != nil {
			return err
		}
		if m.Base != nil && sameContent(obj.Data, m.Base) {
			// Written again without a change (a client that re-serializes what it saves): no edit to keep.
			etag = obj.Tag
			continue
		}
		return s.restore(ctx, m, obj, b, st)
	}
	return fmt.Errorf("delete %s: %w", m.ContactID, ErrTooManyConflicts)
}

// restore brings back a contact the device deleted while the server's version changed: the edit beats the delete.
func (s *Syncer) restore(ctx context.Context, m *mirror, obj *storage.Object, b *batch, st *Stats) error {
	restored := false
	err := s.commit(ctx, b, func(tx *changelog.Tx) error {
		restored = false
		if _, err := tx.Get(m.ContactID); err == nil {
			return nil // created again on the device meanwhile; the next push compares it with the mirror
		} else if !errors.Is(err, changelog.ErrNotFound) {
			return err
		}
		nc, err := tx.Add(s.origin, changelog.Contact{ID: m.ContactID, Data: obj.Data})
		if err != nil {
			return err
		}
		restored = true
		return s.ledger(tx).putMirror(mirror{ContactID: m.ContactID, Href: m.Href, Tag: obj.Tag, Base: obj.Data, LocalRev: nc.Rev})
	})
	if err == nil && restored {
		st.Downloaded++
	}
	return err
}

// setAsidePush records a contact the server refused, and withdraws its announced upload: the refusal is its
// outcome.
func (s *Syncer) setAsidePush(ctx context.Context, b *batch, m *mirror, reason error, st *Stats) error {
	s.cfg.logger.Warn("server refused a contact; set aside", "remote", s.name, "contact", m.ContactID, "err", reason)
	st.SetAside++
	return s.commit(ctx, b, func(tx *changelog.Tx) error {
		if _, err := resolveDoubt(s.ledger(tx), m, nil, ""); err != nil {
			return err
		}
		return s.ledger(tx).setAside(asidePush, m.ContactID, "", reason.Error(), s.cfg.clock.Now())
	})
}
