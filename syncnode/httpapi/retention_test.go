package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// TestInactiveClientMustReset: a client last seen longer ago than the retention gets
// 410 client_reset_required for pushes and pulls from a checkpoint, writes nothing,
// and is let back in by a pull from scratch.
func TestInactiveClientMustReset(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx, n, clients := context.Background(), newRetentionNode(t, st), st.(store.Clients)
		if s, _, bad := n.push("active", `{"mutations":[{"id":"a","mid":1,"set":{"x":1}}]}`); s != 200 {
			t.Fatalf("active client: %d %+v", s, bad)
		}
		if err := clients.Seen(ctx, auth.Principal{Subject: auth.AnonymousSubject}.Actor("sleeper"), time.Now().Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		s, _, bad := n.push("sleeper", `{"mutations":[{"id":"b","mid":9,"set":{"x":2}}]}`)
		if s != 410 || bad.Error.Code != protocol.CodeClientResetRequired || bad.Error.Details["lastSeen"] == nil {
			t.Fatalf("expired client's push: %d %+v", s, bad)
		}
		if s := n.statusAs("sleeper", "/v1/collections/orders/pull?checkpoint=c1.1"); s != 410 {
			t.Fatalf("expired client's pull from a checkpoint: %d", s)
		}
		if s := n.statusAs("sleeper", "/v1/collections/orders/pull"); s != 200 {
			t.Fatalf("pull from scratch: %d", s)
		}
		if got := n.pullAll("orders"); len(got) != 1 || got[0].ID != "a" {
			t.Fatalf("a refused push was written: %+v", got)
		}
		if s, _, bad := n.push("sleeper", `{"mutations":[{"id":"b","mid":10,"set":{"x":2}}]}`); s != 200 {
			t.Fatalf("after the reset: %d %+v", s, bad)
		}
	})
}

// newRetentionNode is a test node that records clients in st's registry and
// retains them for an hour.
func newRetentionNode(t *testing.T, st store.Store) *testNode {
	return newTestNodeWith(t, st, func(c *httpapi.Config) { c.Clients, c.Retention = st.(store.Clients), time.Hour })
}

func (n *testNode) statusAs(client, path string) int {
	req, _ := http.NewRequest("GET", n.srv.URL+path, nil)
	req.Header.Set("Lattice-Client", client)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestPullsFromACheckpointAcknowledge: a pull from a checkpoint records, under the
// client's actor, that it holds the collection up to there (native, RxDB,
// SignalDB, WatermelonDB); a pull from scratch or without a client id records
// nothing.
func TestPullsFromACheckpointAcknowledge(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		ctx, n, clients := context.Background(), newRetentionNode(t, st), st.(store.Clients)
		for i := range 3 {
			if s, _, bad := n.push("writer", fmt.Sprintf(`{"mutations":[{"id":"d%d","mid":%d,"set":{"x":1}}]}`, i, i+1)); s != 200 {
				t.Fatalf("push: %d %+v", s, bad)
			}
		}
		paths := map[string]string{
			"native":   "/v1/collections/orders/pull?checkpoint=c1.2",
			"signaldb": "/v1/signaldb/orders/pull?checkpoint=c1.2",
			"rxdb":     `/v1/rxdb/orders/pull?checkpoint=` + url.QueryEscape(`{"checkpoint":"c1.2"}`),
			"scratch":  "/v1/collections/orders/pull",
		}
		for client, path := range paths {
			if s := n.statusAs(client, path); s != 200 {
				t.Fatalf("%s: %d", path, s)
			}
		}
		acked := map[string]uint64{}
		err := clients.ListClients(ctx, time.Time{}, func(r store.ClientRecord) error { acked[r.ID] = r.Acked["orders"]; return nil })
		if err != nil {
			t.Fatal(err)
		}
		actor := func(device string) string { return auth.Principal{Subject: auth.AnonymousSubject}.Actor(device) }
		for client, want := range map[string]uint64{"native": 2, "signaldb": 2, "rxdb": 2, "scratch": 0} {
			if got := acked[actor(client)]; got != want {
				t.Errorf("%s acknowledged %d, want %d (%v)", client, got, want, acked)
			}
		}
	})
}
