package mongostore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/internal/check"
)

// maxChunk bounds the writes under one allocation: the seals an abandonment inserts
// for it, and the documents of one round. A variable for tests.
var maxChunk = 500

// cleanupTimeout bounds the release or self-abandonment a commit does after its
// caller's context may have ended.
const cleanupTimeout = 30 * time.Second

// Commit allocates seqs for the batch, writes each document with compare-and-swap on
// its seq, and releases the allocation. Batches above 500 writes are committed in
// chunks of 500, each with its own allocation; concurrent calls share allocations
// (group.go).
//
// When writing fails with an error (the server became unreachable), some writes may
// still be in flight. The allocation is then abandoned on the spot, which seals the
// seqs of any write still in flight; a read then tells which writes landed, and the
// others are reported as conflicts. If that fails too, Commit returns the error and a
// reader abandons the allocation after the lease; some writes may have been applied,
// and a retry by the caller (re-read, re-merge) is safe because merging is idempotent.
func (s *Store) Commit(ctx context.Context, collection string, writes []store.Write) (store.CommitResult, error) {
	if err := check.Collection(collection); err != nil {
		return store.CommitResult{}, err
	}
	if err := check.Writes(writes); err != nil {
		return store.CommitResult{}, err
	}
	out := store.CommitResult{Committed: make(map[string]store.Record, len(writes))}
	if len(writes) == 0 {
		return out, nil
	}
	if err := s.ensureIndexes(ctx, collection); err != nil {
		return store.CommitResult{}, err
	}
	for start := 0; start < len(writes); start += maxChunk {
		res, err := s.submit(ctx, collection, writes[start:min(start+maxChunk, len(writes))])
		if err != nil {
			return store.CommitResult{}, err
		}
		for id, r := range res.Committed {
			out.Committed[id] = r
		}
		out.Conflicts = append(out.Conflicts, res.Conflicts...)
	}
	return out, nil
}

// writeRound writes r, whose seqs (from r.first) lie in allocation a, between the
// afterAlloc and beforeRelease hooks. When the write command fails, it settles the
// round by abandoning a (settleFailed) and reports the allocation gone.
func (s *Store) writeRound(ctx context.Context, collection string, r *round, a *openAlloc) (gone bool, err error) {
	if h := s.hooks.afterAlloc; h != nil {
		if err := h(collection, r.first, r.ids()); err != nil {
			return false, err
		}
	}
	if r.res, err = s.writeDocs(ctx, collection, r.first, r.writes, r.encoded); err != nil {
		p := pending{first: a.first, pendingEntry: pendingEntry{N: a.n}}
		if r.res, err = s.settleFailed(ctx, collection, p, r.first, r.writes, err); err != nil {
			return false, err
		}
		gone = true
	}
	if h := s.hooks.beforeRelease; h != nil {
		return gone, h(collection, r.first, r.ids())
	}
	return gone, nil
}

// settleFailed resolves writes (write i at seq first+i) whose write command failed
// with cause (some may have applied, some may still be in flight): it abandons their
// allocation p, which seals every seq not yet written, and reads which writes
// landed. Those are committed, the others conflicts. If either step fails, cause is
// returned and the allocation is left to a reader's lease.
func (s *Store) settleFailed(ctx context.Context, collection string, p pending, first int64, writes []store.Write, cause error) (store.CommitResult, error) {
	if err := s.abandon(ctx, collection, p); err != nil {
		return store.CommitResult{}, cause
	}
	all := make([]int, len(writes))
	for i := range all {
		all[i] = i
	}
	landed := make([]bool, len(writes))
	if err := s.readLanded(ctx, collection, first, writes, all, landed); err != nil {
		return store.CommitResult{}, cause
	}
	return commitResult(writes, first, landed), nil
}

// writeDocs writes the batch, document i with seq first+i: new documents (ExpectRev
// 0) by insert, the others by update filtered on {_id, seq: ExpectRev}. Each write
// either commits or is reported as a conflict (an insert whose _id exists, or whose
// seq was sealed). encoded holds the insert form of new documents made beforehand
// (newDoc), or nil.
func (s *Store) writeDocs(ctx context.Context, collection string, first int64, writes []store.Write, encoded []bson.Raw) (store.CommitResult, error) {
	var inserts []bson.Raw
	var insertIdx, updateIdx []int
	for i, w := range writes {
		if w.ExpectRev != 0 {
			updateIdx = append(updateIdx, i)
			continue
		}
		var doc bson.Raw
		if encoded != nil {
			doc = encoded[i]
		}
		if doc == nil {
			doc = newDoc(w)
		}
		setSeq(doc, first+int64(i))
		inserts = append(inserts, doc)
		insertIdx = append(insertIdx, i)
	}
	dup, err := s.insertDocs(ctx, collection, inserts)
	if err != nil {
		return store.CommitResult{}, err
	}
	landed := make([]bool, len(writes))
	for _, i := range insertIdx {
		landed[i] = true
	}
	for _, j := range dup {
		landed[insertIdx[j]] = false
	}
	if err := s.updateDocs(ctx, collection, first, writes, updateIdx, landed); err != nil {
		return store.CommitResult{}, err
	}
	return commitResult(writes, first, landed), nil
}

// commitResult reports the writes that landed (write i at seq first+i) as committed
// and the others as conflicts.
func commitResult(writes []store.Write, first int64, landed []bool) store.CommitResult {
	res := store.CommitResult{Committed: make(map[string]store.Record, len(writes))}
	for i, w := range writes {
		if landed[i] {
			seq := first + int64(i)
			res.Committed[w.Record.ID] = check.Committed(w, uint64(seq), seq)
		} else {
			res.Conflicts = append(res.Conflicts, w.Record.ID)
		}
	}
	return res
}

// docFields is what an update of w to the given seq sets: the seq, which is also
// the document's new compare-and-swap token, and the state (docBSON).
func docFields(w store.Write, seq int64) bson.D {
	return bson.D{{Key: "seq", Value: seq}, {Key: "state", Value: w.Record.State}}
}

// newDoc is the insert of w, a new document, with seq 0 until setSeq gives it one.
// Callers encode their documents before joining a group commit, so the leader, on
// whose path every round waits, only patches eight bytes per document.
func newDoc(w store.Write) bson.Raw {
	doc, err := bson.Marshal(bson.D{{Key: "seq", Value: int64(0)}, {Key: "_id", Value: w.Record.ID},
		{Key: "state", Value: w.Record.State}})
	if err != nil {
		panic(fmt.Sprintf("mongostore: encode a string and a binary: %v", err)) // cannot happen
	}
	return doc
}

// seqOffset is where the value of newDoc's first field, seq (an int64), starts: after
// the document's length, the element's type byte and the key "seq" with its NUL.
const seqOffset = 4 + 1 + len("seq") + 1

// setSeq writes seq into doc, made by newDoc.
func setSeq(doc bson.Raw, seq int64) {
	binary.LittleEndian.PutUint64(doc[seqOffset:seqOffset+8], uint64(seq))
}

// updateDocs runs the compare-and-swap updates for the writes at idx (unordered)
// and marks in landed those that matched. When fewer matched than were sent, it
// reads the documents back: a write matched exactly if its document now carries its
// seq, as no one else ever writes that seq.
func (s *Store) updateDocs(ctx context.Context, collection string, first int64, writes []store.Write, idx []int, landed []bool) error {
	if len(idx) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(idx))
	for j, i := range idx {
		models[j] = casModel(writes[i], first+int64(i))
	}
	res, err := s.docs(collection).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if err != nil {
		return mapErr("update in "+collection, err)
	}
	if res.MatchedCount == int64(len(idx)) {
		for _, i := range idx {
			landed[i] = true
		}
		return nil
	}
	return s.readLanded(ctx, collection, first, writes, idx, landed)
}

// casModel is the conditional update of w to seq, on its ExpectRev.
func casModel(w store.Write, seq int64) mongo.WriteModel {
	filter := bson.D{{Key: "_id", Value: w.Record.ID}, {Key: "seq", Value: w.ExpectRev}}
	update := bson.D{{Key: "$set", Value: docFields(w, seq)}}
	return mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(update)
}

// readLanded reads back the documents of the writes at idx (write i had seq
// first+i) and marks in landed those that carry their write's seq: no one else ever
// writes that seq, so exactly those writes landed.
func (s *Store) readLanded(ctx context.Context, collection string, first int64, writes []store.Write, idx []int, landed []bool) error {
	ids := make([]string, len(idx))
	for j, i := range idx {
		ids[j] = writes[i].Record.ID
	}
	cur, err := s.docs(collection).Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "seq", Value: 1}}))
	if err != nil {
		return mapErr(fmt.Sprintf("read back %d writes in %s", len(ids), collection), err)
	}
	var docs []docBSON
	if err := cur.All(ctx, &docs); err != nil {
		return mapErr(fmt.Sprintf("read back %d writes in %s", len(ids), collection), err)
	}
	seqs := make(map[string]int64, len(docs))
	for _, d := range docs {
		seqs[d.ID] = d.Seq
	}
	for _, i := range idx {
		landed[i] = seqs[writes[i].Record.ID] == first+int64(i)
	}
	return nil
}
