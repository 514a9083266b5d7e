package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// The security suite (issue 17): one case per finding, each asserting the status,
// the error code and that nothing changed.

// newRetentionJWTNode is newJWTNode with client retention, so that requests record
// their Lattice-Client in the store.
func newRetentionJWTNode(t *testing.T) (*testNode, store.Clients) {
	st := openStore(t)
	cfg := config.Serve()
	cfg.Collections = map[string]config.CollectionConfig{"orders": {}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	hub, _ := fanout.NewHub(ctx, fanout.HubConfig{Bus: fanout.NewMemoryBus()})
	authn, err := auth.NewJWT(ctx, auth.JWTConfig{Tenant: "acme", HS256Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	clients := st.(store.Clients)
	api := httpapi.New(httpapi.Config{Engine: merge.New(merge.Config{Store: st}), Store: st, Collections: cfg.CollectionSet(),
		Auth: authn, Hub: hub, Clients: clients, Retention: time.Hour})
	return &testNode{t: t, srv: newServer(t, api)}, clients
}

// TestClientHeaderIsRecordedOnlyAfterAuthorisationAndOnlyWhenValid: a token with
// no scope, or a client id that is not one, leaves no trace in the store.
func TestClientHeaderIsRecordedOnlyAfterAuthorisationAndOnlyWhenValid(t *testing.T) {
	n, clients := newRetentionJWTNode(t)
	noScope := signed(t, "acme", "")
	for _, path := range []string{"/v1/stream?collections=orders", "/v1/watermelon/pull?tables=orders&last_pulled_at=0"} {
		if status := getAs(t, n, path, noScope, "spy"); status != http.StatusForbidden {
			t.Errorf("%s with a token without scope: %d, want 403", path, status)
		}
	}
	huge := strings.Repeat("x", 100_000)
	if status := getAs(t, n, "/v1/collections/orders/pull", signed(t, "acme", "*"), huge); status != http.StatusOK {
		t.Errorf("pull with an invalid client id: %d", status)
	}
	for _, client := range []string{"spy", huge} {
		if _, known, err := clients.LastSeen(context.Background(), client); err != nil || known {
			t.Errorf("client %.20q recorded (known=%v, err=%v)", client, known, err)
		}
	}
}

// getAs sends a GET with a token and a Lattice-Client header and returns the status
// (a stream is closed as soon as its status is known).
func getAs(t *testing.T, n *testNode, path, token, client string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", n.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Lattice-Client", client)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
