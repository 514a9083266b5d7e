package embedded

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/lattice-sync/lattice/syncnode/store"
)

var _ store.Rewriter = (*Store)(nil)

// Rewrite implements store.Rewriter: in one transaction, each write whose document
// still has rev ExpectRev gets the new state with rev+1 and its old seq.
func (s *Store) Rewrite(ctx context.Context, collection string, writes []store.Write) (store.CommitResult, error) {
	if err := s.precheck(ctx, collection); err != nil {
		return store.CommitResult{}, err
	}
	res := store.CommitResult{Committed: make(map[string]store.Record, len(writes))}
	err := s.db.Update(func(tx *bolt.Tx) error {
		docs := tx.Bucket(docsBucket(collection))
		for _, w := range writes {
			var old store.Record
			var err error
			if v := bucketGet(docs, w.Record.ID); v != nil {
				if old, err = decodeRecord(w.Record.ID, v); err != nil {
					return err
				}
			}
			if old.Rev == 0 || old.Rev != w.ExpectRev {
				res.Conflicts = append(res.Conflicts, w.Record.ID)
				continue
			}
			rec := w.Record
			rec.Seq, rec.Rev = old.Seq, old.Rev+1
			if err := docs.Put([]byte(rec.ID), encodeRecord(rec)); err != nil {
				return fmt.Errorf("put document %q: %w", rec.ID, err)
			}
			res.Committed[rec.ID] = rec
		}
		return nil
	})
	if err != nil {
		return store.CommitResult{}, fmt.Errorf("embedded store: rewrite in %s: %w", collection, err)
	}
	return res, nil
}

func bucketGet(b *bolt.Bucket, id string) []byte {
	if b == nil {
		return nil
	}
	return b.Get([]byte(id))
}
