package merge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// docResult is a document's state after the push.
type docResult struct {
	version string
	seq     uint64
	// unchanged: the push did not write the document (a retry, or another writer got
	// there first), so seq may belong to a commit whose feed position is not released
	// yet (see Result.Pending).
	unchanged bool
}

// mergeAndCommit loads, merges and writes every document of the batch, re-merging
// the documents whose compare-and-swap lost to a concurrent writer (after a backoff)
// or that a blind write found existing (at once).
//
// It does not wait for the feed to reach the documents it left unchanged: Push
// answers with a checkpoint the feed already holds (Result.Pending).
func (e *Engine) mergeAndCommit(ctx context.Context, coll Collection, b *batch) (map[string]docResult, error) {
	out := make(map[string]docResult, len(b.order))
	pending := b.order
	for round, contended := 0, 0; len(pending) > 0; round++ {
		writes, err := e.mergeDocs(ctx, coll, b, pending, mergePass{first: round == 0, blind: round == 0 && e.blind})
		if err != nil {
			return nil, err
		}
		res, err := e.cfg.Store.Commit(ctx, coll.Name, writes.changed)
		if err != nil {
			return nil, fmt.Errorf("commit to %s: %w", coll.Name, err)
		}
		e.collect(ctx, coll.Name, writes.unchanged, res, out)
		pending = res.Conflicts
		e.known.add(coll.Name, pending...) // they exist: read them from now on
		if onlyBlind(pending, writes.blind) {
			continue
		}
		if contended++; contended > e.cfg.MaxRetries {
			return nil, fmt.Errorf("push to %s: %w", coll.Name, ErrConflictRetries)
		}
		if err := backoff(ctx, contended); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AwaitFeed waits until the feed of collection reaches seq (0: nothing to wait for),
// for a caller that needs a document's own position readable (Result.Pending). A
// commit's feed positions are released right after its writes (at most 50 ms later
// while its node writes alone and busy, docs/change-feed.md), or, when its node died,
// its allocation is abandoned by a reader after the lease (Head does that), so the
// wait ends, but may last the lease.
func (e *Engine) AwaitFeed(ctx context.Context, collection string, seq uint64) error {
	for attempt := 1; seq > 0; attempt++ {
		head, err := e.cfg.Store.Head(ctx, collection)
		if err != nil {
			return fmt.Errorf("read the feed head of %s: %w", collection, err)
		}
		if head >= seq {
			return nil
		}
		if err := backoff(ctx, attempt); err != nil {
			return err
		}
	}
	return nil
}

// collect records a round's outcome in out and publishes what it committed.
func (e *Engine) collect(ctx context.Context, coll string, unchanged map[string]docResult, res store.CommitResult, out map[string]docResult) {
	for id, v := range unchanged {
		out[id] = v
	}
	committed := make([]store.Record, 0, len(res.Committed))
	for id, rec := range res.Committed {
		out[id] = docResult{version: rec.Version, seq: rec.Seq}
		committed = append(committed, rec)
		e.known.add(coll, id)
	}
	if e.cfg.Publish != nil && len(committed) > 0 {
		e.cfg.Publish(ctx, coll, committed)
	}
	e.sampleBloat(ctx, coll, committed)
}

// onlyBlind reports whether every conflict was a blind write that found its
// document existing (no contention: no backoff, no retry counted).
func onlyBlind(conflicts []string, blind map[string]bool) bool {
	for _, id := range conflicts {
		if !blind[id] {
			return false
		}
	}
	return true
}

// mergePass says how mergeDocs treats a round.
type mergePass struct {
	// first: nothing is written yet, so an error refuses the whole push.
	first bool
	// blind: documents not known to exist may be merged without reading them.
	blind bool
}

type mergedDocs struct {
	changed   []store.Write
	unchanged map[string]docResult
	blind     map[string]bool // ids written without reading them
}

// mergeDocs applies the batch's mutations of ids to their stored states. On the first
// pass an apply error refuses the whole push; nothing has been written yet.
func (e *Engine) mergeDocs(ctx context.Context, coll Collection, b *batch, ids []string, pass mergePass) (mergedDocs, error) {
	out := mergedDocs{changed: make([]store.Write, 0, len(ids)), unchanged: map[string]docResult{}, blind: map[string]bool{}}
	read := make([]string, 0, len(ids))
	for _, id := range ids {
		if pass.blind && e.writeBlind(coll, b, id) {
			out.blind[id] = true
		} else {
			read = append(read, id)
		}
	}
	recs, err := e.load(ctx, coll, read)
	if err != nil {
		return mergedDocs{}, err
	}
	for _, id := range ids {
		rec, stored := recs[id]
		w, changed, err := e.mergeDoc(coll, b, id, rec, stored)
		if err != nil && out.blind[id] {
			// Refused against a document assumed absent: ask the stored one.
			delete(out.blind, id)
			w, changed, rec, err = e.mergeRead(ctx, coll, b, id)
		}
		if err != nil {
			if !pass.first {
				return mergedDocs{}, fmt.Errorf("re-merge %s/%s after a conflict: %w", coll.Name, id, err)
			}
			return mergedDocs{}, err
		}
		if !changed {
			out.unchanged[id] = docResult{version: rec.Version, seq: rec.Seq, unchanged: true}
			continue
		}
		out.changed = append(out.changed, w)
	}
	return out, nil
}

// load reads the stored records of ids and remembers the ids found.
func (e *Engine) load(ctx context.Context, coll Collection, ids []string) (map[string]store.Record, error) {
	if len(ids) == 0 {
		return map[string]store.Record{}, nil
	}
	recs, err := e.cfg.Store.Get(ctx, coll.Name, ids)
	if err != nil {
		return nil, fmt.Errorf("load from %s: %w", coll.Name, err)
	}
	for id := range recs {
		e.known.add(coll.Name, id)
	}
	return recs, nil
}

// mergeRead reads document id and merges the batch's mutations into it.
func (e *Engine) mergeRead(ctx context.Context, coll Collection, b *batch, id string) (store.Write, bool, store.Record, error) {
	recs, err := e.load(ctx, coll, []string{id})
	if err != nil {
		return store.Write{}, false, store.Record{}, err
	}
	rec, stored := recs[id]
	w, changed, err := e.mergeDoc(coll, b, id, rec, stored)
	return w, changed, rec, err
}

func (e *Engine) mergeDoc(coll Collection, b *batch, id string, rec store.Record, stored bool) (store.Write, bool, error) {
	doc := crdt.NewDoc(id)
	if stored {
		var err error
		if doc, err = crdt.UnmarshalDoc(id, rec.State); err != nil {
			return store.Write{}, false, fmt.Errorf("stored state of %s/%s: %w", coll.Name, id, err)
		}
	}
	changed := false
	for _, i := range b.byDoc[id] {
		m := b.mutations[i] // a copy: a conflict retry stamps afresh
		if b.stamp[i] {
			m.Clock = e.stampAfter(doc.MaxClock())
		}
		ok, err := doc.Apply(&m, coll.Fields)
		if err != nil {
			return store.Write{}, false, applyError(i, id, err)
		}
		changed = changed || ok
	}
	if !changed {
		return store.Write{}, false, nil
	}
	return e.write(coll, doc, rec.Rev, b.byDoc[id][0])
}

// write builds the store write of doc, refusing documents over the size limit or
// against the collection's schema.
func (e *Engine) write(coll Collection, doc *crdt.Doc, rev int64, mutation int) (store.Write, bool, error) {
	rec := store.NewRecord(doc)
	id := rec.ID
	if !rec.Deleted {
		if v := coll.Schema.Validate(rec.Doc); v != nil {
			return store.Write{}, false, &Error{Status: 400, Code: protocol.CodeSchemaViolation,
				Message: fmt.Sprintf("document %s would violate the schema of %s at %q: %s", id, coll.Name, v.Path, v.Message),
				Details: map[string]any{"mutation": mutation, "id": id, "path": v.Path, "rule": v.Rule}}
		}
	}
	if size := storedSize(rec); size > e.cfg.MaxDocBytes {
		return store.Write{}, false, &Error{Status: 413, Code: protocol.CodeTooLarge,
			Message: fmt.Sprintf("document %s would take %d bytes with its merge metadata, limit is %d", id, size, e.cfg.MaxDocBytes),
			Details: map[string]any{"mutation": mutation, "id": id, "bytes": size, "limit": e.cfg.MaxDocBytes}}
	}
	return store.Write{Record: rec, ExpectRev: rev}, true, nil
}

// storedSize is what limits.maxDocBytes bounds: the larger of the materialised JSON
// and the merge state with the version (clocks, counter entries, per-client retry
// vectors, text items and tombstones), so metadata cannot grow without bound beside
// a small document; compaction shrinks the state again.
func storedSize(rec store.Record) int {
	return max(len(rec.Doc), len(rec.State)+len(rec.Version))
}

func applyError(i int, id string, err error) error {
	if errors.Is(err, crdt.ErrStaleBase) {
		return &Error{Status: 409, Code: protocol.CodeStaleBase, Message: fmt.Sprintf("mutation %d (%s): %v", i, id, err),
			Details: map[string]any{"mutation": i, "id": id}}
	}
	if errors.Is(err, crdt.ErrStaleClock) {
		return &Error{Status: 409, Code: protocol.CodeStaleClock,
			Message: fmt.Sprintf("mutation %d (%s): %v; send the edit again with a current clock", i, id, err),
			Details: map[string]any{"mutation": i, "id": id}}
	}
	return mutationError(i, id, err)
}

// backoff waits a random time that grows with the attempt (up to about 50 ms), so
// that writers contending for one document stop colliding in lockstep.
func backoff(ctx context.Context, attempt int) error {
	limit := time.Duration(min(attempt, 10)) * 5 * time.Millisecond
	t := time.NewTimer(rand.N(limit) + time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
