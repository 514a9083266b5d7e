package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
)

// benchServer serves a node's API over real HTTP on st.
func benchServer(b *testing.B, st store.Store) *httptest.Server {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	hub, _ := fanout.NewHub(ctx, fanout.HubConfig{Bus: fanout.NewMemoryBus()})
	cfg := config.Dev()
	api := httpapi.New(httpapi.Config{Engine: merge.New(merge.Config{Store: st}), Store: st,
		Collections: cfg.CollectionSet(), Auth: auth.None{}, Hub: hub, MaxBatch: 1000, MaxBodyBytes: 16 << 20})
	srv := httptest.NewServer(api)
	b.Cleanup(srv.Close)
	return srv
}

// smallDoc is the workload of peers-measured.md: a new document with 5 small fields.
func smallDoc(client string, i int) string {
	return fmt.Sprintf(`{"id":"%s-%d","mid":%d,"set":{"title":"Pump %d","status":"open","site":"Oslo","priority":%d,"done":false}}`,
		client, i, i+1, i, i%5)
}

// pushAll pushes n new documents from each of writers clients in batches.
func pushAll(b *testing.B, url string, writers, n, batch int) {
	clients := make([]string, writers)
	for w := range clients {
		clients[w] = fmt.Sprintf("w%d-%d", w, time.Now().UnixNano())
	}
	pushMutations(b, url, clients, n, batch, func(w, k int) string { return smallDoc(clients[w], k) })
}

// benchClient keeps a connection per writer, as a device does (http.DefaultClient
// keeps two per host, and the benchmarks run up to 16 writers).
var benchClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// pushMutations pushes mutation(w, k) for k < n from each client w concurrently, in
// batches, and fails b on any push that is not a 200.
func pushMutations(b *testing.B, url string, clients []string, n, batch int, mutation func(w, k int) string) {
	var wg sync.WaitGroup
	for w, client := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i += batch {
				ms := make([]string, 0, batch)
				for k := i; k < i+batch && k < n; k++ {
					ms = append(ms, mutation(w, k))
				}
				req, _ := http.NewRequest("POST", url+"/v1/collections/orders/push", strings.NewReader(`{"mutations":[`+strings.Join(ms, ",")+`]}`))
				req.Header.Set("Lattice-Client", client)
				resp, err := benchClient.Do(req)
				if err != nil || resp.StatusCode != 200 {
					b.Errorf("push: %v %v", resp, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body) // read to the end, so the connection is reused
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}

// BenchmarkPushUpdates measures edits of one field of existing documents (the
// peers note's second workload): 4 writers, batches of 100, over 4,000 documents, on
// the embedded store. (On FerretDB 1.24 every compare-and-swap update scans the
// collection: one iteration took a minute, so it is left out; BENCHMARKS.md.)
func BenchmarkPushUpdates(b *testing.B) {
	benchUpdates(b, openStore(b))
}

func benchUpdates(b *testing.B, st store.Store) {
	srv := benchServer(b, st)
	owners := []string{"o0", "o1", "o2", "o3"}
	pushMutations(b, srv.URL, owners, 1000, 100, func(w, k int) string { return smallDoc(owners[w], k) })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		editors := make([]string, len(owners))
		for w := range editors {
			editors[w] = fmt.Sprintf("e%d-%d", w, i)
		}
		pushMutations(b, srv.URL, editors, 1000, 100, func(w, k int) string {
			return fmt.Sprintf(`{"id":"%s-%d","mid":%d,"set":{"status":"checked %d"}}`, owners[w], k, k+1, i)
		})
	}
	b.ReportMetric(float64(4000*b.N)/b.Elapsed().Seconds(), "mutations/s")
}

// benchWriters are the concurrent clients of the push benchmarks: a few, and as
// many as a small crew of technicians reconnecting at once.
var benchWriters = []int{4, 16}

// BenchmarkPush measures durable push throughput over HTTP: 4000 new documents per
// iteration from 4 or 16 concurrent writers, in batches of 100, and 400
// single-document pushes from 4 writers, on both stores.
func BenchmarkPush(b *testing.B) {
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("embedded/batch=100/writers=%d", writers), func(b *testing.B) {
			benchPush(b, openStore(b), writers, 4000/writers, 100)
		})
	}
	b.Run("embedded/batch=1/writers=4", func(b *testing.B) { benchPush(b, openStore(b), 4, 100, 1) })
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("mongodb/batch=100/writers=%d", writers), func(b *testing.B) {
			srv := ferrettest.Start(b)
			benchPush(b, openMongoOn(b, srv), writers, 4000/writers, 100)
			logWrites(b, srv)
		})
	}
	b.Run("mongodb/batch=1/writers=4", func(b *testing.B) { benchPush(b, openMongo(b), 4, 100, 1) })
}

func benchPush(b *testing.B, st store.Store, writers, per, batch int) {
	srv := benchServer(b, st)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pushAll(b, srv.URL, writers, per, batch)
	}
	b.ReportMetric(float64(writers*per*b.N)/b.Elapsed().Seconds(), "mutations/s")
}

// logWrites logs how busy FerretDB was with each kind of write during the benchmark.
func logWrites(b *testing.B, srv ferrettest.Server) {
	if st := srv.WriteStats(); st != nil {
		b.Logf("%d iterations in %s; FerretDB writes: %s", b.N, b.Elapsed().Round(time.Millisecond), st)
	}
}

// BenchmarkRawBulkWrite is the yardstick for BenchmarkPush/mongodb: the driver's
// unordered bulkWrite inserting the same documents on the same kind of server, from
// the same number of writers in batches of 100 (no read, no merge, no feed: the floor
// of any ingest).
func BenchmarkRawBulkWrite(b *testing.B) {
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) { benchRawBulkWrite(b, writers) })
	}
}

func benchRawBulkWrite(b *testing.B, writers int) {
	srv := ferrettest.Start(b)
	coll := rawCollection(b, srv)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rawWriteAll(b, coll, writers, 4000, 100, fmt.Sprint(i))
	}
	b.ReportMetric(float64(4000*b.N)/b.Elapsed().Seconds(), "docs/s")
	logWrites(b, srv)
}

// rawCollection is the yardstick's collection on srv, through a client of its own.
func rawCollection(b *testing.B, srv ferrettest.Server) *mongo.Collection {
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(srv.Database).Collection("raw")
}

// rawWriteAll inserts total of smallDoc's documents into coll from writers
// concurrent writers, each in unordered bulk writes of batch; tag keeps ids unique.
func rawWriteAll(b *testing.B, coll *mongo.Collection, writers, total, batch int, tag string) {
	per := total / writers
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for k := 0; k < per; k += batch {
				if _, err := coll.BulkWrite(context.Background(), rawInserts(fmt.Sprintf("w%d-%s", w, tag), k, min(k+batch, per)), options.BulkWrite().SetOrdered(false)); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
}

// BenchmarkPushOverRaw is the yardstick measured so that the machine's
// drift cancels out: one FerretDB, and each iteration pushes new documents through
// a node (4,000 from 4 or 16 writers in batches of 100, or 400 from 4 writers one per
// push) and bulk-writes as many plain documents with the raw driver from as many
// writers in the same batches, alternating which goes first. It reports both rates
// and the ratio of the total times ("x-raw": Lattice's overhead; the goal is <= 1.3).
func BenchmarkPushOverRaw(b *testing.B) {
	for _, writers := range benchWriters {
		b.Run(fmt.Sprintf("batch=100/writers=%d", writers), func(b *testing.B) { benchPushOverRaw(b, writers, 4000, 100) })
	}
	b.Run("batch=1/writers=4", func(b *testing.B) { benchPushOverRaw(b, 4, 400, 1) })
}

func benchPushOverRaw(b *testing.B, writers, total, batch int) {
	srv := ferrettest.Start(b)
	node, coll := benchServer(b, openMongoOn(b, srv)), rawCollection(b, srv)
	var pushTime, rawTime time.Duration
	push := func() {
		t := time.Now()
		pushAll(b, node.URL, writers, total/writers, batch)
		pushTime += time.Since(t)
	}
	raw := func(i int) {
		t := time.Now()
		rawWriteAll(b, coll, writers, total, batch, fmt.Sprint(i))
		rawTime += time.Since(t)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			push()
			raw(i)
		} else {
			raw(i)
			push()
		}
	}
	b.ReportMetric(float64(total*b.N)/pushTime.Seconds(), "mutations/s")
	b.ReportMetric(float64(total*b.N)/rawTime.Seconds(), "raw-docs/s")
	b.ReportMetric(pushTime.Seconds()/rawTime.Seconds(), "x-raw")
}

// rawInserts are the inserts of smallDoc's documents from to to-1 as plain fields.
func rawInserts(client string, from, to int) []mongo.WriteModel {
	models := make([]mongo.WriteModel, 0, to-from)
	for j := from; j < to; j++ {
		doc := bson.D{{Key: "_id", Value: fmt.Sprintf("%s-%d", client, j)}, {Key: "title", Value: fmt.Sprintf("Pump %d", j)},
			{Key: "status", Value: "open"}, {Key: "site", Value: "Oslo"}, {Key: "priority", Value: j % 5}, {Key: "done", Value: false}}
		models = append(models, mongo.NewInsertOneModel().SetDocument(doc))
	}
	return models
}

// BenchmarkCatchUp measures an initial sync of 100,000 documents from zero by one
// client over HTTP, pages of 1000, on the embedded store.
func BenchmarkCatchUp(b *testing.B) {
	st := openStore(b)
	srv := benchServer(b, st)
	const total = 100_000
	pushAll(b, srv.URL, 4, total/4, 1000)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := &testNode{t: b, srv: srv}
		if got := len(n.pullAll("orders")); got != total {
			b.Fatalf("pulled %d documents, want %d", got, total)
		}
	}
	b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/initial-sync")
}
