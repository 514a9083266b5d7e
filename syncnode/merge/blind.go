package merge

import (
	"sync"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// Blind writes. On a store whose reads cost more than a failed insert
// (store.BlindWriter: FerretDB answers every read with a collection scan; on MongoDB
// the read is one round trip more per push), the first pass of a push does not read
// documents this node has no reason to think exist: it merges their mutations into an
// empty document and writes the result as a creation (ExpectRev 0). A document that
// did exist comes back as a compare-and-swap conflict and is read, re-merged and
// written like any conflict; nothing is lost, and a creation costs no read.
//
// A refusal must still leave the push unwritten, so a document is written blind only
// when its merge into the empty document is as good a check as its merge into the
// stored one would be:
//   - the collection's JSON Schema accepts every document (a real schema can refuse
//     a combination of stored and new fields that the new fields alone pass);
//   - none of its mutations splices text or lists (a splice names a base version,
//     which only the stored document can judge stale);
//   - and a merge into the empty document that fails is never taken as the answer:
//     the document is read and merged again before the push is refused.
//
// One limit stays: a document near the size limit, written by another node and
// unknown here, can pass the size check blind and fail it after the re-read, when
// the push's other documents are already written. The push then answers 413 for
// that document; pushing it again without it is harmless (retries are no-ops).
// docs/protocol-notes.md lists this beside the concurrent-writer case.

// knownIDs remembers, per collection, ids this node has seen stored (read or
// written), so that their pushes read first. It holds at most 2×size ids: when the
// current generation fills, it becomes the previous one and the oldest is dropped.
type knownIDs struct {
	mu         sync.Mutex
	size       int
	cur, older map[string]struct{}
}

func newKnownIDs(size int) *knownIDs {
	return &knownIDs{size: size, cur: map[string]struct{}{}, older: map[string]struct{}{}}
}

func knownKey(collection, id string) string { return collection + "\x00" + id }

// has reports whether id of collection was seen stored.
func (k *knownIDs) has(collection, id string) bool {
	key := knownKey(collection, id)
	k.mu.Lock()
	defer k.mu.Unlock()
	_, inCur := k.cur[key]
	_, inOlder := k.older[key]
	return inCur || inOlder
}

// add records ids of collection as seen stored.
func (k *knownIDs) add(collection string, ids ...string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, id := range ids {
		if len(k.cur) >= k.size {
			k.older, k.cur = k.cur, make(map[string]struct{}, k.size)
		}
		k.cur[knownKey(collection, id)] = struct{}{}
	}
}

// blindWrites reports whether the engine's store wants blind writes.
func blindWrites(st store.Store) bool {
	bw, ok := st.(store.BlindWriter)
	return ok && bw.BlindInserts()
}

// writeBlind reports whether document id of the batch may be written without
// reading it first (see the rules above).
func (e *Engine) writeBlind(coll Collection, b *batch, id string) bool {
	if !coll.Schema.AcceptsAll() || e.known.has(coll.Name, id) {
		return false
	}
	for _, i := range b.byDoc[id] {
		if len(b.mutations[i].Splice) > 0 {
			return false
		}
	}
	return true
}
