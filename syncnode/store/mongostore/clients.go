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

// clientsCollection holds {_id: client, seen: Unix ms}.
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

// Seen implements store.Clients. Two nodes upserting a new client at once can
// both try the insert; the loser's duplicate-key error means the document now
// exists, so it updates it again.
func (s *Store) Seen(ctx context.Context, client string, at time.Time) error {
	update := func() error {
		_, err := s.db.Collection(clientsCollection).UpdateOne(ctx, bson.D{{Key: "_id", Value: client}},
			bson.D{{Key: "$max", Value: bson.D{{Key: "seen", Value: at.UnixMilli()}}}}, options.UpdateOne().SetUpsert(true))
		return err
	}
	err := update()
	if mongo.IsDuplicateKeyError(err) {
		err = update()
	}
	return mapErr("record "+client+" as seen", err)
}
