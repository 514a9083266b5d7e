package ferrettest

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestStartServesWireProtocol(t *testing.T) {
	srv := Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := client.Database(srv.Database).Collection("c")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "a"}, {Key: "n", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	var got struct{ N int }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "a"}}).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.N != 1 {
		t.Fatalf("read back n=%d, want 1", got.N)
	}
	if !srv.Real {
		st := srv.WriteStats()
		if st["insert"].Count != 1 || st["insert"].Busy <= 0 || st["find"].Count != 0 {
			t.Fatalf("write stats after one insert and one find: %v", st)
		}
		if again := srv.WriteStats(); len(again) != 0 {
			t.Fatalf("write stats not reset: %v", again)
		}
	}
}
