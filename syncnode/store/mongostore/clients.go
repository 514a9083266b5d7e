package mongostore

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lattice-sync/lattice/syncnode/store"
)

var _ store.Clients = (*Store)(nil)

// clientsCollection holds {_id: client, seen: Unix ms, acked: {collection: seq}}.
const clientsCollection = "_lattice_clients"

// LastSeen implements store.Clients.
func (s *Store) LastSeen(ctx context.Context, client string) (time.Time, bool, error) {
	var doc struct {
		Seen int64 `bson:"seen"`
	}
	err := s.db.Collection(clientsCollection).FindOne(ctx, bson.D{{Key: "_id", Value: client}}).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, mapErr("last seen of "+client, err)
	}
	return time.UnixMilli(doc.Seen), true, nil
}

// Seen implements store.Clients.
func (s *Store) Seen(ctx context.Context, client string, at time.Time) error {
	return mapErr("record "+client+" as seen", s.upsertMax(ctx, client, "seen", at.UnixMilli()))
}

// Acked implements store.Clients.
func (s *Store) Acked(ctx context.Context, client, collection string, seq uint64) error {
	return mapErr("record "+client+"'s acknowledgement of "+collection, s.upsertMax(ctx, client, "acked."+collection, int64(seq)))
}

// upsertMax raises field of client's registry document to v. Two nodes upserting a
// new client at once can both try the insert; the loser's duplicate-key error means
// the document now exists, so it updates it again.
func (s *Store) upsertMax(ctx context.Context, client, field string, v int64) error {
	update := func() error {
		_, err := s.db.Collection(clientsCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: client}},
			bson.D{{Key: "$max", Value: bson.D{{Key: field, Value: v}}}}, options.UpdateOne().SetUpsert(true))
		return err
	}
	err := update()
	if mongo.IsDuplicateKeyError(err) {
		err = update()
	}
	return err
}

// ListClients implements store.Clients.
func (s *Store) ListClients(ctx context.Context, since time.Time, fn func(store.ClientRecord) error) error {
	cur, err := s.db.Collection(clientsCollection).Find(ctx, bson.D{{Key: "seen", Value: bson.D{{Key: "$gte", Value: since.UnixMilli()}}}})
	if err != nil {
		return mapErr("list clients", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var doc struct {
			ID    string           `bson:"_id"`
			Seen  int64            `bson:"seen"`
			Acked map[string]int64 `bson:"acked"`
		}
		if err := cur.Decode(&doc); err != nil {
			return mapErr("list clients", err)
		}
		rec := store.ClientRecord{ID: doc.ID, Seen: time.UnixMilli(doc.Seen), Acked: make(map[string]uint64, len(doc.Acked))}
		for coll, seq := range doc.Acked {
			rec.Acked[coll] = uint64(seq)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return mapErr("list clients", cur.Err())
}
