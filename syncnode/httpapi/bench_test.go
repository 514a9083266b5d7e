package httpapi_test

import (
	"context"
	"fmt"
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
	hub, _ := fanout.NewHub(ctx, fanout.NewMemoryBus())
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
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(client string) {
			defer wg.Done()
			for i := 0; i < n; i += batch {
				ms := make([]string, 0, batch)
				for k := i; k < i+batch && k < n; k++ {
					ms = append(ms, smallDoc(client, k))
				}
				req, _ := http.NewRequest("POST", url+"/v1/collections/orders/push", strings.NewReader(`{"mutations":[`+strings.Join(ms, ",")+`]}`))
				req.Header.Set("Lattice-Client", client)
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != 200 {
					b.Errorf("push: %v %v", resp, err)
					return
				}
				resp.Body.Close()
			}
		}(fmt.Sprintf("w%d-%d", w, time.Now().UnixNano()))
	}
	wg.Wait()
}

// BenchmarkPush measures durable push throughput over HTTP: 4 writers, batches of
// 100 new documents and single-document pushes, on both stores.
func BenchmarkPush(b *testing.B) {
	stores := map[string]func(testing.TB) store.Store{"embedded": openStore, "mongodb": openMongo}
	for _, name := range []string{"embedded", "mongodb"} {
		for _, batch := range []int{100, 1} {
			b.Run(fmt.Sprintf("%s/batch=%d", name, batch), func(b *testing.B) {
				srv := benchServer(b, stores[name](b))
				per := 1000
				if batch == 1 {
					per = 100
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					pushAll(b, srv.URL, 4, per, batch)
				}
				b.ReportMetric(float64(4*per*b.N)/b.Elapsed().Seconds(), "mutations/s")
			})
		}
	}
}

// BenchmarkRawBulkWrite is the yardstick for BenchmarkPush/mongodb: the driver's
// unordered bulkWrite inserting the same documents on the same kind of server, 4
// writers, batches of 100 (no read, no merge, no feed: the floor of any ingest).
func BenchmarkRawBulkWrite(b *testing.B) {
	srv := ferrettest.Start(b)
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI))
	if err != nil {
		b.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	coll := client.Database(srv.Database).Collection("raw")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for k := 0; k < 1000; k += 100 {
					var models []mongo.WriteModel
					for j := k; j < k+100; j++ {
						id := fmt.Sprintf("w%d-%d-%d", w, i, j)
						doc := bson.D{{Key: "title", Value: fmt.Sprintf("Pump %d", j)}, {Key: "status", Value: "open"},
							{Key: "site", Value: "Oslo"}, {Key: "priority", Value: j % 5}, {Key: "done", Value: false}}
						doc = append(bson.D{{Key: "_id", Value: id}}, doc...)
						models = append(models, mongo.NewInsertOneModel().SetDocument(doc))
					}
					if _, err := coll.BulkWrite(context.Background(), models, options.BulkWrite().SetOrdered(false)); err != nil {
						b.Error(err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
	}
	b.ReportMetric(float64(4000*b.N)/b.Elapsed().Seconds(), "docs/s")
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
