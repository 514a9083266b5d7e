package mongostore

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/internal/check"
)

// Changes returns the records committed after checkpoint after: it reads the
// watermark W (abandoning pending allocations older than the lease first), then the
// documents with after < seq <= W in seq order. Next is the last record's seq when
// the page is full, else W. limit <= 0 means the default page size (1000).
//
// Both reads run in one causally consistent session, so the document read sees at
// least what the sequencer read saw.
func (s *Store) Changes(ctx context.Context, collection string, after uint64, limit int) (store.Page, error) {
	if err := check.Collection(collection); err != nil {
		return store.Page{}, err
	}
	limit = check.Limit(limit)
	sess, err := s.client.StartSession(options.Session().SetCausalConsistency(true))
	if err != nil {
		return store.Page{}, mapErr("start session", err)
	}
	defer sess.EndSession(context.WithoutCancel(ctx))
	var page store.Page
	err = mongo.WithSession(ctx, sess, func(sctx context.Context) error {
		var err error
		page, err = s.changes(sctx, collection, after, limit)
		return err
	})
	return page, err
}

func (s *Store) changes(ctx context.Context, collection string, after uint64, limit int) (store.Page, error) {
	w, err := s.settledWatermark(ctx, collection)
	if err != nil {
		return store.Page{}, err
	}
	page := store.Page{Next: after}
	if w <= int64(after) {
		return page, nil
	}
	recs, err := s.feedRange(ctx, collection, int64(after), w, limit+1)
	if err != nil {
		return store.Page{}, err
	}
	if len(recs) > limit {
		page.Records, page.HasMore = recs[:limit], true
		page.Next = recs[limit-1].Seq
		return page, nil
	}
	page.Records, page.Next = recs, uint64(w)
	return page, nil
}

// feedRange returns up to n documents with after < seq <= upTo, ascending by seq.
// Seals (recover.go), which have no state, are not documents and are left out.
func (s *Store) feedRange(ctx context.Context, collection string, after, upTo int64, n int) ([]store.Record, error) {
	filter := bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: upTo}}},
		{Key: "state", Value: bson.D{{Key: "$exists", Value: true}}}}
	opts := options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}).SetLimit(int64(n))
	cur, err := s.feedDB.Collection("docs."+collection).Find(ctx, filter, opts)
	if err != nil {
		return nil, mapErr(fmt.Sprintf("read the feed of %s after %d", collection, after), err)
	}
	var docs []docBSON
	if err := cur.All(ctx, &docs); err != nil {
		return nil, mapErr(fmt.Sprintf("read the feed of %s after %d", collection, after), err)
	}
	recs := make([]store.Record, len(docs))
	for i, d := range docs {
		if recs[i], err = d.record(); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// Head implements store.Store: the watermark W, after abandoning stale allocations.
// Every allocation still pending lies above W, so nothing committed later is missed.
func (s *Store) Head(ctx context.Context, collection string) (uint64, error) {
	if err := check.Collection(collection); err != nil {
		return 0, err
	}
	w, err := s.settledWatermark(ctx, collection)
	return uint64(max(w, 0)), err
}

// settledWatermark reads the watermark; if allocations older than the lease hold it
// back, it abandons them and reads it again.
func (s *Store) settledWatermark(ctx context.Context, collection string) (int64, error) {
	w, stale, err := s.watermark(ctx, collection)
	if err != nil || len(stale) == 0 {
		return w, err
	}
	if err := s.abandonStale(ctx, collection, stale); err != nil {
		return 0, err
	}
	w, _, err = s.watermark(ctx, collection)
	return w, err
}
