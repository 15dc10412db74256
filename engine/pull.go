package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/contactsync/contactsync/changelog"
	"github.com/contactsync/contactsync/engine/storage"
)

// Mass deletion guard: a pull may not delete every one of more than one synced contact, nor more than half of
// at least guardMinMirrored of them, unless AllowMassDeletion says so.
const guardMinMirrored = 10

// pull applies what changed on the server since the saved sync token; without a token (the first pull, or
// after the server refused the old one) it lists everything and reconciles the listing with the mirror.
func (s *Syncer) pull(ctx context.Context, rs remoteState, st *Stats) error {
	if !rs.listing {
		err := s.pullSync(ctx, rs, st)
		if !errors.Is(err, storage.ErrNotSupported) {
			if err != nil {
				return fmt.Errorf("pull from %s: %w", s.name, err)
			}
			return nil
		}
		s.cfg.logger.Info("server has no sync-collection; listing ETags instead", "remote", s.name)
		if err := s.store.Update(ctx, func(tx *changelog.Tx) error { return s.ledger(tx).useListing() }); err != nil {
			return fmt.Errorf("pull from %s: %w", s.name, err)
		}
	}
	var listing *storage.Listing
	err := s.call(ctx, st, "list", func() (err error) {
		listing, err = s.remote.List(ctx)
		return err
	})
	if err == nil {
		err = s.reconcile(ctx, rs, listing.Members, listing.Rejected, nil, st)
	}
	if err != nil {
		return fmt.Errorf("pull from %s: %w", s.name, err)
	}
	return nil
}

// pullSync walks sync-collection pages from the saved token, applying each page and saving its token with
// the page's last effects.
func (s *Syncer) pullSync(ctx context.Context, rs remoteState, st *Stats) error {
	token := rs.token
	// The guard compares deletions with the mirror as it was before this pull. Counting it costs a scan, so it
	// is done only when the first page brings deletions or more pages follow, before that page is applied.
	mirrored := -1
	var full *fullListing // the members seen so far of a listing from an empty token
	deletions := 0
	for {
		var page *storage.Page
		err := s.call(ctx, st, "sync-collection", func() (err error) {
			page, err = s.remote.Changes(ctx, token)
			return err
		})
		if errors.Is(err, storage.ErrInvalidToken) && token != "" {
			s.cfg.logger.Info("sync token no longer valid; full resync", "remote", s.name)
			token, full, deletions = "", nil, 0
			continue
		}
		if err != nil {
			return err
		}
		if token == "" && full == nil {
			full = &fullListing{etags: make(map[string]storage.Tag)}
		}
		if full != nil {
			full.add(page)
			if page.More {
				token = page.Token
				continue
			}
			return s.reconcile(ctx, rs, full.members(), full.rejected, &page.Token, st)
		}
		changed, deleted, mirroredGone, err := s.filter(ctx, page.Changed, page.Deleted)
		if err != nil {
			return err
		}
		deletions += mirroredGone
		if mirrored < 0 && (deletions > 0 || page.More) {
			if mirrored, err = s.mirrorCount(ctx); err != nil {
				return err
			}
		}
		if err := s.guard(deletions, mirrored); err != nil {
			return err
		}
		if err := s.apply(ctx, rs, changed, deleted, page.Rejected, &page.Token, st); err != nil {
			return err
		}
		if !page.More {
			return nil
		}
		token = page.Token
	}
}

// fullListing gathers the pages of a listing from an empty token, in the order the server gave them.
type fullListing struct {
	order    []string
	etags    map[string]storage.Tag
	rejected []storage.Rejected
}

func (f *fullListing) add(p *storage.Page) {
	for _, m := range p.Changed {
		if _, ok := f.etags[m.Href]; !ok {
			f.order = append(f.order, m.Href)
		}
		f.etags[m.Href] = m.Tag
	}
	for _, h := range p.Deleted {
		delete(f.etags, h)
	}
	f.rejected = append(f.rejected, p.Rejected...)
}

func (f *fullListing) members() []storage.Member {
	out := make([]storage.Member, 0, len(f.etags))
	for _, h := range f.order {
		if etag, ok := f.etags[h]; ok {
			out = append(out, storage.Member{Href: h, Tag: etag})
		}
	}
	return out
}

func (s *Syncer) mirrorCount(ctx context.Context) (int, error) {
	var n int
	err := s.store.View(ctx, func(tx *changelog.Tx) (err error) {
		n, err = s.ledger(tx).agreedCount()
		return err
	})
	return n, err
}

// guard stops a pull that would delete most of what the device syncs with this remote.
func (s *Syncer) guard(deletions, mirrored int) error {
	if s.cfg.allowMassDelete || deletions == 0 {
		return nil
	}
	if (deletions >= mirrored && mirrored > 1) || (mirrored >= guardMinMirrored && 2*deletions > mirrored) {
		return fmt.Errorf("%w: the server no longer lists %d of the %d contacts synced with it; if that is right, sync again allowing mass deletion",
			ErrMassDeletion, deletions, mirrored)
	}
	return nil
}

// filter keeps the changed members whose tag differs from the mirror's (the server lists the device's own
// uploads too) and from a set-aside bad version, and the deleted hrefs the mirror knows or that are set aside;
// mirroredGone counts the deleted ones the mirror knows (what the mass deletion guard weighs).
func (s *Syncer) filter(ctx context.Context, members []storage.Member, gone []string) (changed, deleted []string, mirroredGone int, err error) {
	if len(members) == 0 && len(gone) == 0 {
		return nil, nil, 0, nil
	}
	err = s.store.View(ctx, func(tx *changelog.Tx) error {
		changed, deleted, mirroredGone = nil, nil, 0
		for _, mem := range members {
			m, err := s.ledger(tx).mirrorByHref(mem.Href)
			if err != nil {
				return err
			}
			if mem.Tag != "" && m != nil && m.Tag.Equal(mem.Tag) {
				continue
			}
			bad, err := s.ledger(tx).asideTag(mem.Href)
			if err != nil {
				return err
			}
			if mem.Tag != "" && bad != "" && bad.Equal(mem.Tag) {
				continue
			}
			changed = append(changed, mem.Href)
		}
		for _, h := range gone {
			m, err := s.ledger(tx).mirrorByHref(h)
			if err != nil {
				return err
			}
			bad, err := s.ledger(tx).hasAside(asidePull, h)
			if err != nil {
				return err
			}
			// A member set aside and now deleted is a deletion too: applying it forgets the set-aside item.
			if m != nil || bad {
				deleted = append(deleted, h)
			}
			if m != nil {
				mirroredGone++
			}
		}
		return nil
	})
	return changed, deleted, mirroredGone, err
}

// reconcile diffs a full listing against the mirror: members with another ETag are fetched, mirrored hrefs no
// longer listed were deleted on the server.
func (s *Syncer) reconcile(ctx context.Context, rs remoteState, members []storage.Member, rejected []storage.Rejected, token *string, st *Stats) error {
	var known map[string]storage.Tag
	err := s.store.View(ctx, func(tx *changelog.Tx) (err error) {
		known, err = s.ledger(tx).agreedTags()
		return err
	})
	if err != nil {
		return err
	}
	listed := make(map[string]struct{}, len(members))
	for _, m := range members {
		listed[m.Href] = struct{}{}
	}
	var gone []string
	for href := range known {
		if _, ok := listed[href]; !ok {
			gone = append(gone, href)
		}
	}
	if err := s.guard(len(gone), len(known)); err != nil {
		return err
	}
	changed, deleted, _, err := s.filter(ctx, members, gone)
	if err != nil {
		return err
	}
	if s.cfg.queryMin > 0 && len(changed) >= s.cfg.queryMin && 2*len(changed) >= len(members) {
		// Deletions first, as in apply: a contact that moved to another href is removed, then added.
		if err := s.apply(ctx, rs, nil, deleted, nil, nil, st); err != nil {
			return err
		}
		if changed, err = s.applyQueried(ctx, rs, changed, st); err != nil {
			return err
		}
		deleted = nil
	}
	if err := s.apply(ctx, rs, changed, deleted, rejected, token, st); err != nil {
		return err
	}
	return s.pruneAside(ctx, members, rejected)
}

// pruneAside forgets the pull items set aside that a full listing no longer shows (a hostile answer's foreign
// href, a bad member deleted since): status would otherwise list them for good. It writes only when there is
// something to forget, so a no-op sync by listing costs no write.
func (s *Syncer) pruneAside(ctx context.Context, members []storage.Member, rejected []storage.Rejected) error {
	shown := make(map[string]bool, len(members)+len(rejected))
	for _, m := range members {
		shown[m.Href] = true
	}
	for _, r := range rejected {
		shown[r.Href] = true
	}
	var stale []string
	err := s.store.View(ctx, func(tx *changelog.Tx) error {
		items, err := s.ledger(tx).setAsides()
		stale = stale[:0]
		for _, a := range items {
			if a.Kind == asidePull && !shown[a.Ref] {
				stale = append(stale, a.Ref)
			}
		}
		return err
	})
	if err != nil || len(stale) == 0 {
		return err
	}
	return s.store.Update(ctx, func(tx *changelog.Tx) error {
		for _, ref := range stale {
			if err := s.ledger(tx).clearAside(asidePull, ref); err != nil {
				return err
			}
		}
		return nil
	})
}

// applyQueried applies the members of changed that one query over the whole address book returns, in
// transactions of the batch size, and returns those still to fetch, in their order. A query the server cannot
// answer, or answers only in part, is not an error: what it did not give is left to multigets. The sync token is
// not saved here; the caller's last transaction saves it once every member is applied.
func (s *Syncer) applyQueried(ctx context.Context, rs remoteState, changed []string, st *Stats) ([]string, error) {
	want := make(map[string]bool, len(changed))
	for _, h := range changed {
		want[h] = true
	}
	var (
		batch    []storage.Object
		applyErr error
		done     int
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.applyTx(ctx, st, func(tx *changelog.Tx, local *Stats) error {
			for _, obj := range batch {
				if err := s.applyObject(tx, obj, local); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += len(batch)
		s.progress("pull", done, len(changed))
		batch = batch[:0]
		return nil
	}
	err := s.remote.FetchAll(ctx, func(o storage.Object) error {
		// A member the query could not give well (or one listed after the listing) is left to a multiget.
		if o.Err != nil || !want[o.Href] {
			return nil
		}
		delete(want, o.Href)
		batch = append(batch, o)
		if len(batch) < s.cfg.batch {
			return nil
		}
		applyErr = flush()
		return applyErr
	})
	if applyErr == nil && ctx.Err() == nil {
		applyErr = flush()
	}
	switch {
	case applyErr != nil:
		return nil, applyErr
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, storage.ErrCredentialsRejected):
		return nil, fmt.Errorf("query: %w: %w", ErrCredentialsRejected, err)
	case err != nil:
		s.cfg.logger.Info("query over the address book failed; fetching the rest by multiget", "remote", s.name,
			"fetched", done, "left", len(want), "err", err)
	}
	rest := changed[:0:0]
	for _, h := range changed {
		if want[h] {
			rest = append(rest, h)
		}
	}
	return rest, nil
}

// pullStep is one transaction of a pull: deletions, or members to fetch and apply.
type pullStep struct{ deleted, changed []string }

// apply fetches and applies changed members and applies deletions, one transaction per batch; the last one also
// records the rejected entries and saves token (when not nil), so the token never runs ahead of the effects.
// Deletions go first: a contact that moved to another href is removed and then added, not refused as a
// duplicate UID.
func (s *Syncer) apply(ctx context.Context, rs remoteState, changed, deleted []string, rejected []storage.Rejected, token *string, st *Stats) error {
	var steps []pullStep
	for chunk := range slices.Chunk(deleted, s.cfg.batch) {
		steps = append(steps, pullStep{deleted: chunk})
	}
	for chunk := range slices.Chunk(changed, s.cfg.batch) {
		steps = append(steps, pullStep{changed: chunk})
	}
	finish := func(tx *changelog.Tx, local *Stats) error {
		now := s.cfg.clock.Now()
		for _, r := range rejected {
			local.SetAside++
			if err := s.ledger(tx).setAside(asidePull, r.Href, "", r.Err.Error(), now); err != nil {
				return err
			}
		}
		if token == nil || *token == rs.token {
			return nil
		}
		return s.ledger(tx).saveToken(*token)
	}
	if len(steps) == 0 {
		if len(rejected) == 0 && (token == nil || *token == rs.token) {
			return nil
		}
		return s.applyTx(ctx, st, func(tx *changelog.Tx, local *Stats) error { return finish(tx, local) })
	}
	fetched := s.prefetch(ctx, rs, steps)
	defer fetched.stop()
	done, total := 0, len(changed)+len(deleted)
	for i, stp := range steps {
		var objs []storage.Object
		if len(stp.changed) > 0 {
			f, ok := <-fetched.c
			if !ok {
				// The fetching stopped without an answer: only a cancelled ctx does that.
				if err := context.Cause(ctx); err != nil {
					return err
				}
				return errors.New("multiget stopped without an answer")
			}
			st.Add(f.st)
			if f.err != nil {
				return f.err
			}
			objs = f.objs
		}
		last := i == len(steps)-1
		err := s.applyTx(ctx, st, func(tx *changelog.Tx, local *Stats) error {
			for _, href := range stp.deleted {
				if err := s.applyDeletion(tx, href, local); err != nil {
					return err
				}
			}
			for _, obj := range objs {
				if err := s.applyObject(tx, obj, local); err != nil {
					return err
				}
			}
			if last {
				return finish(tx, local)
			}
			return nil
		})
		if err != nil {
			return err
		}
		done += len(stp.deleted) + len(stp.changed)
		s.progress("pull", done, total)
	}
	return nil
}

// fetchedBatch is one multiget's answer, with the retries it took.
type fetchedBatch struct {
	objs []storage.Object
	st   Stats
	err  error
}

// prefetcher fetches the batches of a pull one ahead of the transactions that apply them, so the next
// multiget is on the wire while a batch commits. At most one answer waits unapplied.
type prefetcher struct {
	c      chan fetchedBatch
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// prefetch starts fetching, in order, the changed members of each step that has some.
func (s *Syncer) prefetch(ctx context.Context, rs remoteState, steps []pullStep) *prefetcher {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{c: make(chan fetchedBatch, 1), cancel: cancel}
	p.wg.Go(func() {
		defer close(p.c)
		for _, stp := range steps {
			if len(stp.changed) == 0 {
				continue
			}
			var f fetchedBatch
			f.err = s.call(ctx, &f.st, "multiget", func() (err error) {
				f.objs, err = s.remote.Fetch(ctx, stp.changed)
				return err
			})
			select {
			case p.c <- f:
			case <-ctx.Done():
				return
			}
			if f.err != nil {
				return
			}
		}
	})
	return p
}

// stop ends the fetching (a pull that failed midway) and waits for it.
func (p *prefetcher) stop() {
	p.cancel()
	p.wg.Wait()
}

// applyTx runs fn in one transaction and adds what it counted to st only if it commits.
func (s *Syncer) applyTx(ctx context.Context, st *Stats, fn func(*changelog.Tx, *Stats) error) error {
	var local Stats
	err := s.store.Update(ctx, func(tx *changelog.Tx) error {
		local = Stats{}
		return fn(tx, &local)
	})
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	st.Add(local)
	return nil
}

// applyObject applies one fetched member: added when the device lacks it, taken as is when the device did not
// change the contact since the base, merged three ways when both changed it (with no base on a first sync
// where both hold the UID). A merge that differs from the server's version is written as a local change, so
// the next push sends it. Anything unreadable is set aside, never applied.
func (s *Syncer) applyObject(tx *changelog.Tx, obj storage.Object, st *Stats) error {
	now := s.cfg.clock.Now()
	aside := func(reason string) error {
		s.cfg.logger.Warn("remote member set aside", "remote", s.name, "href", obj.Href, "reason", reason)
		st.SetAside++
		return s.ledger(tx).setAside(asidePull, obj.Href, obj.Tag, reason, now)
	}
	if obj.Err != nil {
		if errors.Is(obj.Err, storage.ErrGone) {
			return s.applyDeletion(tx, obj.Href, st)
		}
		return aside(obj.Err.Error())
	}
	id, err := remoteCard(obj.Href, obj.Data)
	if err != nil {
		return aside(err.Error())
	}
	mh, err := s.ledger(tx).mirrorByHref(obj.Href)
	if err != nil {
		return err
	}
	if mh != nil && mh.Pending != nil && mh.ContactID == id {
		// The device's own upload, whose answer a crash lost, or not: the content tells.
		if mh, err = resolveDoubt(s.ledger(tx), mh, obj.Data, obj.Tag); err != nil {
			return err
		}
	}
	if mh != nil && mh.ContactID != id {
		return aside(fmt.Sprintf("UID changed from %q to %q", mh.ContactID, id))
	}
	if mh == nil {
		if mi, err := s.ledger(tx).mirrorByID(id); err != nil {
			return err
		} else if mi != nil {
			return aside(fmt.Sprintf("UID %q is already at %s", id, mi.Href))
		}
	}
	row := mirror{ContactID: id, Href: obj.Href, Tag: obj.Tag, Base: obj.Data}
	local, err := tx.Get(id)
	switch {
	case errors.Is(err, changelog.ErrNotFound) && mh != nil && mh.Base != nil && sameContent(obj.Data, mh.Base):
		// Deleted on the device and unchanged on the server: the next push deletes it there.
		row.Base, row.LocalRev = mh.Base, mh.LocalRev
	case errors.Is(err, changelog.ErrNotFound):
		// New on the server, or deleted on the device while edited on the server: the edit beats the delete.
		nc, err := tx.Add(s.origin, changelog.Contact{ID: id, Data: obj.Data})
		if err != nil {
			return err
		}
		st.Downloaded++
		row.LocalRev = nc.Rev
	case err != nil:
		return err
	case local.Source != "":
		return aside(fmt.Sprintf("UID %q belongs to a contact from %q, which is never merged", id, local.Source))
	default:
		err := s.applyChange(tx, local, mh, &row, st)
		if errors.Is(err, errUnmergeable) {
			return aside(err.Error())
		}
		if err != nil {
			return err
		}
	}
	if err := s.ledger(tx).putMirror(row); err != nil {
		return err
	}
	return s.ledger(tx).clearAside(asidePull, obj.Href)
}

// applyChange applies a fetched version to a contact the device holds, and sets row.LocalRev (and row.Base,
// which stays the server's version: the base of the next merge is what the server holds). Versions are
// compared by content: a server may hand back the device's own upload re-serialized.
func (s *Syncer) applyChange(tx *changelog.Tx, local changelog.Contact, mh *mirror, row *mirror, st *Stats) error {
	mine := uploadBytes(local)
	row.LocalRev = local.Rev
	if sameContent(mine, row.Base) {
		// The server holds what the device holds: keep the device's bytes as the agreed version.
		row.Base = mine
		return nil
	}
	var base []byte
	if mh != nil {
		base = mh.Base
	}
	if base != nil && sameContent(mine, base) {
		// Unchanged on the device since the agreed version: take the server's.
		nc, err := tx.Replace(s.origin, changelog.Contact{ID: local.ID, Data: row.Base})
		if err != nil {
			return err
		}
		st.Downloaded++
		row.LocalRev = nc.Rev
		return nil
	}
	res, err := s.merge(base, mine, row.Base)
	if err != nil {
		return fmt.Errorf("merge %s: %w", local.ID, err)
	}
	st.Merged++
	st.Conflicts += len(res.Conflicts)
	if err := s.ledger(tx).recordConflicts(local.ID, res.Conflicts); err != nil {
		return err
	}
	// A merge that says what the server says is the server's version, in its bytes; anything else is a local
	// change the next push sends.
	origin, data := s.origin, row.Base
	if !sameContent(res.Data, row.Base) {
		origin, data = changelog.Local, res.Data
		st.localWrites++
	}
	if bytes.Equal(data, local.Data) {
		return nil
	}
	nc, err := tx.Replace(origin, changelog.Contact{ID: local.ID, Data: data})
	if err != nil {
		return err
	}
	row.LocalRev = nc.Rev
	return nil
}

// applyDeletion applies a member deleted on the server: the device deletes the contact too, unless it changed
// it since the base; then the edit beats the delete and the contact is written again as a local change, so the
// next push uploads it afresh. The mirror row then keeps its base, without an ETag (the server holds no agreed
// version): if another device brings the contact back too, the second upload meets the first and merges with
// the version both edited, where a merge without base cannot tell one side's removal from an addition.
func (s *Syncer) applyDeletion(tx *changelog.Tx, href string, st *Stats) error {
	if err := s.ledger(tx).clearAside(asidePull, href); err != nil {
		return err
	}
	m, err := s.ledger(tx).mirrorByHref(href)
	if err != nil || m == nil {
		return err
	}
	local, err := tx.Get(m.ContactID)
	switch {
	case errors.Is(err, changelog.ErrNotFound):
		return s.ledger(tx).deleteMirror(m.ContactID)
	case err != nil:
		return err
	case local.Source != "":
		return s.ledger(tx).deleteMirror(m.ContactID)
	case sameContent(uploadBytes(local), m.Base):
		st.DeletedLocal++
		if err := s.ledger(tx).deleteMirror(m.ContactID); err != nil {
			return err
		}
		return tx.Remove(s.origin, m.ContactID)
	}
	row := *m
	row.Tag, row.Pending = "", nil
	if err := s.ledger(tx).putMirror(row); err != nil {
		return err
	}
	st.localWrites++
	_, err = tx.Replace(changelog.Local, local)
	return err
}
