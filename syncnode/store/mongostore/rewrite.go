package mongostore

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/lattice-sync/lattice/syncnode/store"
)

var _ store.Rewriter = (*Store)(nil)

// Rewrite implements store.Rewriter. The document keeps its seq, which is also its
// compare-and-swap token here: a push that read the state before the rewrite can
// still write over it, which only undoes the rewrite (its merge holds the whole
// history); a rewrite that read before a push finds a new seq and conflicts.
func (s *Store) Rewrite(ctx context.Context, collection string, writes []store.Write) (store.CommitResult, error) {
	res := store.CommitResult{Committed: make(map[string]store.Record, len(writes))}
	for _, w := range writes {
		if w.ExpectRev == 0 { // nothing to rewrite: a rewrite never creates
			res.Conflicts = append(res.Conflicts, w.Record.ID)
			continue
		}
		filter := bson.D{{Key: "_id", Value: w.Record.ID}, {Key: "seq", Value: w.ExpectRev}}
		out, err := s.docs(collection).UpdateOne(ctx, filter, bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: w.Record.State}}}})
		if err != nil {
			return res, mapErr("rewrite in "+collection, err)
		}
		if out.MatchedCount == 0 {
			res.Conflicts = append(res.Conflicts, w.Record.ID)
			continue
		}
		rec := w.Record
		rec.Seq, rec.Rev = uint64(w.ExpectRev), w.ExpectRev
		res.Committed[rec.ID] = rec
	}
	return res, nil
}
