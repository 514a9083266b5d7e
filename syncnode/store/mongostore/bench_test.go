package mongostore

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/storetest"
)

// Benchmarks: Commit throughput (batches of 100 new small documents, and single
// documents), Changes catch-up, and the raw driver's unordered bulk insert of the
// same documents on the same server as a yardstick. Run with
//
//	go test -run '^$' -bench . -benchtime 20x ./syncnode/store/mongostore/
//
// (FerretDB in-process unless LATTICE_TEST_MONGODB_URI points at a MongoDB).

func benchCommit(b *testing.B, batch int) {
	s := openOn(b, ferrettest.Start(b), Config{})
	defer s.Close(context.Background())
	storetest.BenchCommit(b, s, batch)
}

func BenchmarkCommitBatch100(b *testing.B) { benchCommit(b, 100) }
func BenchmarkCommitSingle(b *testing.B)   { benchCommit(b, 1) }

// BenchmarkRawBulkInsert100 is the yardstick: the driver's unordered bulk write of
// 100 inserts of the same documents, with the same write concern.
func BenchmarkRawBulkInsert100(b *testing.B) {
	s := openOn(b, ferrettest.Start(b), Config{})
	defer s.Close(context.Background())
	coll := s.db.Collection("raw")
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		models := make([]mongo.WriteModel, 0, 100)
		for j, w := range storetest.BenchWrites(fmt.Sprint("b", i), 100) {
			doc := newDoc(w)
			setSeq(doc, int64(i*100+j+1))
			models = append(models, mongo.NewInsertOneModel().SetDocument(doc))
		}
		if _, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkCommitWriters commits 4,000 new documents per iteration from 4 or 16
// concurrent callers in batches of 100, as pushes through one node do (they share
// allocations: group.go).
func BenchmarkCommitWriters(b *testing.B) {
	eachWriters(b, func(b *testing.B, s *Store, writers int) { storetest.BenchCommitWriters(b, s, writers, 100) })
}

// eachWriters runs bench with 4 and 16 writers, each on a new server and Store, and
// logs the server's write commands.
func eachWriters(b *testing.B, bench func(b *testing.B, s *Store, writers int)) {
	for _, writers := range []int{4, 16} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			srv := ferrettest.Start(b)
			s := openOn(b, srv, Config{})
			defer s.Close(context.Background())
			bench(b, s, writers)
			logWrites(b, srv)
		})
	}
}

// BenchmarkRawBulkInsertWriters is the yardstick of BenchmarkCommitWriters: the same
// documents (as stored) by the driver's unordered bulk insert, from as many writers.
func BenchmarkRawBulkInsertWriters(b *testing.B) {
	eachWriters(b, func(b *testing.B, s *Store, writers int) {
		coll := s.db.Collection("raw")
		var seq atomic.Int64
		storetest.BenchWriters(b, writers, 100, func(ws []store.Write) error {
			models := make([]mongo.WriteModel, len(ws))
			for i, w := range ws {
				doc := newDoc(w)
				setSeq(doc, seq.Add(1))
				models[i] = mongo.NewInsertOneModel().SetDocument(doc)
			}
			_, err := coll.BulkWrite(context.Background(), models, options.BulkWrite().SetOrdered(false))
			return err
		})
	})
}

// logWrites logs how busy FerretDB was with each kind of write during the benchmark.
func logWrites(b *testing.B, srv ferrettest.Server) {
	if st := srv.WriteStats(); st != nil {
		b.Logf("%d iterations in %s; FerretDB writes: %s", b.N, b.Elapsed().Round(time.Millisecond), st)
	}
}

// BenchmarkChangesCatchUp reads a feed of 2,000 documents from the start in pages of
// 1,000.
func BenchmarkChangesCatchUp(b *testing.B) {
	s := openOn(b, ferrettest.Start(b), Config{})
	defer s.Close(context.Background())
	storetest.BenchCatchUp(b, s, 2000, 500)
}

// BenchmarkRawFind is the yardstick for catch-up: the driver's sorted find of the
// same documents, without the watermark read.
func BenchmarkRawFind(b *testing.B) {
	const total = 2000
	s := openOn(b, ferrettest.Start(b), Config{})
	defer s.Close(context.Background())
	ctx := context.Background()
	for i := range total / 500 {
		if _, err := s.Commit(ctx, "bench", storetest.BenchWrites(fmt.Sprint("c", i), 500)); err != nil {
			b.Fatal(err)
		}
	}
	coll := s.feedDB.Collection("docs.bench")
	b.ResetTimer()
	for range b.N {
		cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "seq", Value: 1}}))
		if err != nil {
			b.Fatal(err)
		}
		var docs []docBSON
		if err := cur.All(ctx, &docs); err != nil || len(docs) != total {
			b.Fatalf("find: %v (%d documents)", err, len(docs))
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "docs/s")
}
