package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/merge"
)

const testSecret = "0123456789abcdef0123456789abcdef"

func signed(t *testing.T, tenant, scope string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "u", "tenant": tenant, "scope": scope, "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEveryCrossTenantAndMissingScopeRequestIsRefused drives every endpoint with
// tokens that must not pass and checks that nothing was written.
func TestEveryCrossTenantAndMissingScopeRequestIsRefused(t *testing.T) {
	n := newJWTNode(t)
	push := `{"mutations":[{"id":"d","mid":1,"set":{"x":1}}]}`
	type call struct{ method, path, body string }
	pushOrders := call{"POST", "/v1/collections/orders/push", push}
	calls := map[string]call{
		"push": pushOrders, "pull": {"GET", "/v1/collections/orders/pull", ""},
		"schema": {"GET", "/v1/collections/orders/schema", ""}, "stream": {"GET", "/v1/stream?collections=orders", ""},
	}
	cases := []struct {
		name, token string
		status      int
		code        string
		only        []string // calls this case applies to (all if empty)
	}{
		{"no token", "", 401, protocol.CodeUnauthenticated, nil},
		{"garbage token", "not-a-jwt", 401, protocol.CodeUnauthenticated, nil},
		{"token of another tenant", signed(t, "globex", "*"), 403, protocol.CodeForbidden, nil},
		{"no scopes", signed(t, "acme", ""), 403, protocol.CodeForbidden, nil},
		{"scopes of another collection", signed(t, "acme", "read:invoices write:invoices"), 403, protocol.CodeForbidden, nil},
		{"read scope cannot push", signed(t, "acme", "read:orders"), 403, protocol.CodeForbidden, []string{"push"}},
		{"write scope cannot read", signed(t, "acme", "write:orders"), 403, protocol.CodeForbidden, []string{"pull", "schema", "stream"}},
	}
	for _, c := range cases {
		for name, cl := range calls {
			if c.only != nil && !contains(c.only, name) {
				continue
			}
			t.Run(c.name+"/"+name, func(t *testing.T) {
				status, eb := n.authed(cl.method, cl.path, c.token, cl.body)
				if status != c.status || eb.Error.Code != c.code {
					t.Fatalf("got %d %+v, want %d %s", status, eb.Error, c.status, c.code)
				}
			})
		}
	}
	if s, _ := n.authed("GET", "/v1/collections/orders/pull?access_token="+signed(t, "acme", "read:orders"), "", ""); s != 401 {
		t.Fatalf("token in the query of a pull (only streams take one there): %d, want 401", s)
	}
	page := &protocol.PullResponse{}
	req, _ := http.NewRequest("GET", n.srv.URL+"/v1/collections/orders/pull", nil)
	req.Header.Set("Authorization", "Bearer "+signed(t, "acme", "*"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := decode(resp, page); err != nil || len(page.Changes) != 0 {
		t.Fatalf("refused requests wrote something: %+v %v", page, err)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func (n *testNode) authed(method, path, token, body string) (int, protocol.ErrorBody) {
	req, _ := http.NewRequest(method, n.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Lattice-Client", "c1")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb protocol.ErrorBody
	if resp.StatusCode != 200 {
		_ = decode(resp, &eb)
	}
	return resp.StatusCode, eb
}

// newJWTNode is a node of tenant acme that verifies HS256 tokens signed with
// testSecret, serving collections orders and invoices.
func newJWTNode(t *testing.T) *testNode {
	return newJWTNodeWith(t, func(*httpapi.Config) {})
}

// newJWTNodeWith is newJWTNode whose API configuration tweak may change.
func newJWTNodeWith(t *testing.T, tweak func(*httpapi.Config)) *testNode {
	st := openStore(t)
	cfg := config.Serve()
	cfg.Collections = map[string]config.CollectionConfig{"orders": {}, "invoices": {}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	hub, _ := fanout.NewHub(ctx, fanout.HubConfig{Bus: fanout.NewMemoryBus()})
	authn, err := auth.NewJWT(ctx, auth.JWTConfig{Tenant: "acme", HS256Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	acfg := httpapi.Config{Engine: merge.New(merge.Config{Store: st}), Store: st, Collections: cfg.CollectionSet(), Auth: authn, Hub: hub}
	tweak(&acfg)
	return &testNode{t: t, srv: newServer(t, httpapi.New(acfg))}
}

// TestStreamsEndWhenTheTokenExpires: native and adapter streams, detached or not,
// end at the token's exp, so the client reconnects with a fresh token.
func TestStreamsEndWhenTheTokenExpires(t *testing.T) {
	n := newJWTNode(t)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "u", "tenant": "acme", "scope": "*", "exp": time.Now().Add(2 * time.Second).Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/stream?collections=orders", "/v1/rxdb/orders/stream"} {
		req, _ := http.NewRequest("GET", n.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		ended := make(chan error, 1)
		go func() { _, err := io.Copy(io.Discard, resp.Body); ended <- err }()
		select {
		case <-ended:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s still open 10 s after its token expired", path)
		}
		resp.Body.Close()
	}
}
