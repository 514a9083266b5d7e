package ferrettest

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestConcurrentIncrementsAllLand checks single-document atomicity through the
// endpoint: concurrent findOneAndUpdate $inc calls on one document must all count.
func TestConcurrentIncrementsAllLand(t *testing.T) {
	srv := Start(t)
	if got := countIncrements(t, srv.URI, srv.Database); got != incWorkers*incEach {
		t.Fatalf("counter = %d after %d increments: lost updates", got, incWorkers*incEach)
	}
}

const (
	incWorkers = 8
	incEach    = 15
)

// countIncrements runs incWorkers clients doing incEach increments each and returns
// the final counter.
func countIncrements(t *testing.T, uri, db string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	coll := client.Database(db).Collection("counters")
	filter := bson.D{{Key: "_id", Value: "c"}}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "c"}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range incWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range incEach {
				upd := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}
				if err := coll.FindOneAndUpdate(ctx, filter, upd).Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var got struct{ N int }
	if err := coll.FindOne(ctx, filter).Decode(&got); err != nil {
		t.Fatal(err)
	}
	return got.N
}

func TestCommandName(t *testing.T) {
	body := bson.D{{Key: "update", Value: "c"}, {Key: "$db", Value: "x"}}
	raw, err := bson.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, headerLen+4+1)
	msg[12] = opMsg & 0xff
	msg[13] = opMsg >> 8
	msg = append(msg, raw...)
	if got := commandName(msg); got != "update" {
		t.Fatalf("commandName = %q, want update", got)
	}
	if got := commandName(msg[:headerLen+4]); got != "" {
		t.Fatalf("commandName of a truncated message = %q, want empty", got)
	}
}
