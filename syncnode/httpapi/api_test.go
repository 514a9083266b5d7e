package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// testNode is a node's API over real HTTP with a fresh store.
type testNode struct {
	t   testing.TB
	srv *httptest.Server
}

func newTestNode(t *testing.T, st store.Store) *testNode {
	return newLimitedTestNode(t, st, 0)
}

func newLimitedTestNode(t *testing.T, st store.Store, rps float64) *testNode {
	return newTestNodeWith(t, st, func(c *httpapi.Config) { c.RequestsPerSecond = rps })
}

// newTestNodeWith builds a test node whose API configuration tweak may change.
func newTestNodeWith(t *testing.T, st store.Store, tweak func(*httpapi.Config)) *testNode {
	cfg := config.Dev()
	cfg.Collections = map[string]config.CollectionConfig{
		"orders": {Fields: map[string]string{"hours": "counter", "tags": "set", "notes": "text", "parts": "list"}},
		"tickets": {Fields: map[string]string{"hours": "counter"}, Schema: json.RawMessage(`{"type":"object","required":["status"],
			"properties":{"status":{"enum":["open","done"]},"hours":{"type":"number","maximum":100}}}`)},
	}
	cfg.AutoCollections = false
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	bus := fanout.NewMemoryBus()
	hub, err := fanout.NewHub(ctx, fanout.HubConfig{Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	engine := merge.New(merge.Config{Store: st, NodeID: "test-node", Publish: func(ctx context.Context, c string, recs []store.Record) {
		_ = bus.Publish(ctx, fanout.Event{Collection: c})
	}})
	acfg := httpapi.Config{Engine: engine, Store: st, Collections: cfg.CollectionSet(), Auth: auth.None{},
		Hub: hub, MaxBodyBytes: 64 << 10, MaxBatch: 50, Burst: 2}
	tweak(&acfg)
	api := httpapi.New(acfg)
	return &testNode{t: t, srv: newServer(t, api)}
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func decode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }

// do sends a request and decodes the JSON answer into out (if not nil).
func (n *testNode) do(method, path, client, body string, out any) int {
	n.t.Helper()
	req, err := http.NewRequest(method, n.srv.URL+path, strings.NewReader(body))
	if err != nil {
		n.t.Fatal(err)
	}
	if client != "" {
		req.Header.Set("Lattice-Client", client)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			n.t.Fatalf("%s %s: answer %q is not JSON: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

func (n *testNode) push(client, body string) (int, protocol.PushResponse, protocol.ErrorBody) {
	n.t.Helper()
	return n.pushTo("orders", client, body)
}

func (n *testNode) pullAll(coll string) []protocol.Change {
	n.t.Helper()
	var all []protocol.Change
	cp := ""
	for {
		var page protocol.PullResponse
		if s := n.do("GET", "/v1/collections/"+coll+"/pull?checkpoint="+cp, "", "", &page); s != 200 {
			n.t.Fatalf("pull: status %d", s)
		}
		all = append(all, page.Changes...)
		cp = page.Checkpoint
		if !page.HasMore {
			return all
		}
	}
}

func TestPushPullRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		body := `{"mutations":[{"id":"wo-42","mid":1,"hlc":"001763719200000.000003.tablet-7",
			"set":{"status":"in_progress","address.city":"Oslo"},"incr":{"hours":1.5},"add":{"tags":["urgent"]},
			"splice":{"notes":{"base":"","ops":[{"at":0,"delete":0,"insert":"Need part."}]}}}]}`
		status, res, bad := n.push("tablet-7", body)
		if status != 200 {
			t.Fatalf("push: %d %+v", status, bad)
		}
		if len(res.Results) != 1 || res.Results[0].ID != "wo-42" || res.Results[0].Version == "" || res.Checkpoint == "" {
			t.Fatalf("push response %+v", res)
		}
		changes := n.pullAll("orders")
		if len(changes) != 1 {
			t.Fatalf("pulled %d changes", len(changes))
		}
		want := `{"id":"wo-42","address":{"city":"Oslo"},"hours":1.5,"notes":"Need part.","status":"in_progress","tags":["urgent"]}`
		if got := string(changes[0].Doc); got != want || changes[0].Version != res.Results[0].Version {
			t.Fatalf("pulled %s (version %s), want %s (version %s)", got, changes[0].Version, want, res.Results[0].Version)
		}
		// A retry of the same mutation answers 200 with the same version and changes nothing.
		status, again, _ := n.push("tablet-7", body)
		if status != 200 || again.Results[0].Version != res.Results[0].Version {
			t.Fatalf("retry: %d %+v", status, again)
		}
		if got := n.pullAll("orders"); string(got[0].Doc) != want {
			t.Fatalf("after retry: %s", got[0].Doc)
		}
	})
}

func TestPullWithClocks(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		n.push("c1", `{"mutations":[{"id":"a","mid":1,"hlc":"001763719200000.000000.c1","set":{"x":1}}]}`)
		var page protocol.PullResponse
		n.do("GET", "/v1/collections/orders/pull?clocks=1", "", "", &page)
		if got := page.Changes[0].Clocks["x"]; got != "001763719200000.000000."+(auth.Principal{Subject: auth.AnonymousSubject}).Actor("c1") {
			t.Fatalf("clocks %v", page.Changes[0].Clocks)
		}
	})
}

func TestPullFromCheckpointSeesOnlyLaterChanges(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		n.push("c1", `{"mutations":[{"id":"a","mid":1,"set":{"x":1}},{"id":"b","mid":2,"set":{"x":2}}]}`)
		var first protocol.PullResponse
		n.do("GET", "/v1/collections/orders/pull", "", "", &first)
		n.push("c1", `{"mutations":[{"id":"b","mid":3,"set":{"x":3}}]}`)
		var next protocol.PullResponse
		n.do("GET", "/v1/collections/orders/pull?checkpoint="+first.Checkpoint, "", "", &next)
		if len(next.Changes) != 1 || next.Changes[0].ID != "b" || string(next.Changes[0].Doc) != `{"id":"b","x":3}` {
			t.Fatalf("pull after checkpoint: %+v", next.Changes)
		}
	})
}

func TestServerStampedClockWinsOverEarlierPush(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		// A client clock far in the past, then a push without a clock: the later push wins.
		n.push("c1", `{"mutations":[{"id":"d","mid":1,"hlc":"001763719200000.000000.c1","set":{"s":"first"}}]}`)
		n.push("c1", `{"mutations":[{"id":"d","mid":2,"set":{"s":"second"}}]}`)
		if got := n.pullAll("orders"); string(got[0].Doc) != `{"id":"d","s":"second"}` {
			t.Fatalf("got %s", got[0].Doc)
		}
	})
}

// TestBadInputIsRefusedAndChangesNothing sends many kinds of bad requests: each is a
// 4xx with the PROTOCOL.md code, and a pull afterwards shows the collection unchanged.
func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		if s, _, bad := n.push("c1", `{"mutations":[{"id":"d","mid":1,"set":{"keep":"me"},"splice":{"notes":{"base":"","ops":[{"at":0,"delete":0,"insert":"abc"}]}}}]}`); s != 200 {
			t.Fatalf("seed push: %d %+v", s, bad)
		}
		before := n.pullAll("orders")
		good := `{"id":"d","mid":50,"set":{"x":1}}`
		deep := strings.Repeat("a.", 40) + "z"
		big := strings.Repeat("x", 70<<10)
		tests := []struct {
			name, path, client, body string
			status                   int
			code                     string
		}{
			{"malformed JSON", "orders", "c1", `{"mutations":[`, 400, protocol.CodeInvalidJSON},
			{"not JSON", "orders", "c1", `hello`, 400, protocol.CodeInvalidJSON},
			{"empty body", "orders", "c1", ``, 400, protocol.CodeInvalidJSON},
			{"trailing data", "orders", "c1", `{"mutations":[` + good + `]} {}`, 400, protocol.CodeInvalidJSON},
			{"mutations not a list", "orders", "c1", `{"mutations":{}}`, 400, protocol.CodeInvalidMutation},
			{"no mutations", "orders", "c1", `{"mutations":[]}`, 400, protocol.CodeInvalidMutation},
			{"unknown top-level field", "orders", "c1", `{"mutations":[` + good + `],"x":1}`, 400, protocol.CodeInvalidMutation},
			{"unknown op", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"rename":{"a":"b"}}]}`, 400, protocol.CodeInvalidMutation},
			{"mid is a string", "orders", "c1", `{"mutations":[{"id":"d","mid":"7","set":{"x":1}}]}`, 400, protocol.CodeInvalidMutation},
			{"negative mid", "orders", "c1", `{"mutations":[{"id":"d","mid":-1,"set":{"x":1}}]}`, 400, protocol.CodeInvalidMutation},
			{"id is a number", "orders", "c1", `{"mutations":[{"id":5,"mid":51,"set":{"x":1}}]}`, 400, protocol.CodeInvalidMutation},
			{"missing id", "orders", "c1", `{"mutations":[{"mid":51,"set":{"x":1}}]}`, 400, protocol.CodeInvalidMutation},
			{"set is a list", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":[1]}]}`, 400, protocol.CodeInvalidMutation},
			{"dollar path", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":{"$where":1}}]}`, 400, protocol.CodeInvalidPath},
			{"dollar key in value", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":{"a":{"$gt":1}}}]}`, 400, protocol.CodeInvalidPath},
			{"dotted key in value", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":{"a":{"b.c":1}}}]}`, 400, protocol.CodeInvalidPath},
			{"empty path segment", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":{"a..b":1}}]}`, 400, protocol.CodeInvalidPath},
			{"deep path", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":{"` + deep + `":1}}]}`, 400, protocol.CodeInvalidPath},
			{"set the id", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":{"id":"e"}}]}`, 400, protocol.CodeInvalidPath},
			{"incr a plain field", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"incr":{"keep":1}}]}`, 400, protocol.CodeTypeMismatch},
			{"set a counter", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":{"hours":3}}]}`, 400, protocol.CodeTypeMismatch},
			{"add to a text field", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"add":{"notes":["x"]}}]}`, 400, protocol.CodeTypeMismatch},
			{"incr not a number", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"incr":{"hours":"1"}}]}`, 400, protocol.CodeInvalidMutation},
			{"bad clock", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"hlc":"yesterday","set":{"x":1}}]}`, 400, protocol.CodeInvalidMutation},
			{"clock of another actor", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"hlc":"001763719200000.000000.c2","set":{"x":1}}]}`, 400, protocol.CodeInvalidMutation},
			{"clock far in the future", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"hlc":"009999999999999.000000.c1","set":{"x":1}}]}`, 400, protocol.CodeInvalidMutation},
			{"splice out of range", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"splice":{"notes":{"base":"","ops":[{"at":99,"delete":0,"insert":"x"}]}}}]}`, 400, protocol.CodeInvalidMutation},
			{"splice bad base", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"splice":{"notes":{"base":"v9.x","ops":[]}}}]}`, 400, protocol.CodeInvalidMutation},
			{"one bad mutation refuses the batch", "orders", "c1", `{"mutations":[` + good + `,{"id":"d","mid":52,"set":{"$x":1}}]}`, 400, protocol.CodeInvalidPath},
			{"missing client header", "orders", "", `{"mutations":[` + good + `]}`, 400, protocol.CodeInvalidMutation},
			{"bad client header", "orders", "c 1", `{"mutations":[` + good + `]}`, 400, protocol.CodeInvalidMutation},
			{"oversized body", "orders", "c1", `{"mutations":[{"id":"d","mid":51,"set":{"x":"` + big + `"}}]}`, 413, protocol.CodeTooLarge},
			{"too many mutations", "orders", "c1", `{"mutations":[` + strings.Repeat(good+",", 50) + good + `]}`, 413, protocol.CodeTooLarge},
			{"unknown collection", "nope", "c1", `{"mutations":[` + good + `]}`, 404, protocol.CodeUnknownCollection},
			{"invalid collection name", "no$pe", "c1", `{"mutations":[` + good + `]}`, 404, protocol.CodeUnknownCollection},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var eb protocol.ErrorBody
				body := strings.ReplaceAll(tt.body, `"mid":51`, `"mid":`+strconv.Itoa(100+i)) // a wrongly accepted case must not turn later ones into retries
				status := n.do("POST", "/v1/collections/"+tt.path+"/push", tt.client, body, &eb)
				if status != tt.status || eb.Error.Code != tt.code || eb.Error.Message == "" {
					t.Fatalf("got %d %+v, want %d %s", status, eb.Error, tt.status, tt.code)
				}
			})
		}
		after := n.pullAll("orders")
		if len(after) != len(before) || string(after[0].Doc) != string(before[0].Doc) || after[0].Version != before[0].Version {
			t.Fatalf("bad input changed the collection:\nbefore %+v\nafter  %+v", before, after)
		}
	})
}

func TestBadPullParameters(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		for _, q := range []string{"checkpoint=zzz", "checkpoint=c1.-1", "limit=0", "limit=x", "limit=1000000"} {
			var eb protocol.ErrorBody
			if s := n.do("GET", "/v1/collections/orders/pull?"+q, "", "", &eb); s != 400 || eb.Error.Code == "" {
				t.Errorf("pull?%s: %d %+v", q, s, eb)
			}
		}
		var eb protocol.ErrorBody
		if s := n.do("GET", "/v1/nowhere", "", "", &eb); s != 404 || eb.Error.Code != protocol.CodeNotFound {
			t.Errorf("unknown endpoint: %d %+v", s, eb)
		}
	})
}

func TestHealthAndReadiness(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		for _, p := range []string{"/healthz", "/readyz"} {
			if s := n.do("GET", p, "", "", nil); s != 200 {
				t.Errorf("%s: %d", p, s)
			}
		}
	})
}

func TestRateLimitAnswers429WithRetryAfter(t *testing.T) {
	n := newLimitedTestNode(t, openStore(t), 0.01)
	for mid := 1; mid <= 2; mid++ { // the burst
		if s, _, bad := n.push("c1", `{"mutations":[{"id":"d","mid":`+strconv.Itoa(mid)+`,"set":{"x":1}}]}`); s != 200 {
			t.Fatalf("push %d: %d %+v", mid, s, bad)
		}
	}
	req, _ := http.NewRequest("POST", n.srv.URL+"/v1/collections/orders/push", strings.NewReader(`{"mutations":[{"id":"e","mid":3,"set":{"x":1}}]}`))
	req.Header.Set("Lattice-Client", "c1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var eb protocol.ErrorBody
	_ = json.NewDecoder(resp.Body).Decode(&eb)
	resp.Body.Close()
	if resp.StatusCode != 429 || eb.Error.Code != protocol.CodeRateLimited || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("got %d %+v Retry-After=%q", resp.StatusCode, eb, resp.Header.Get("Retry-After"))
	}
	if s, _, _ := n.push("c2", `{"mutations":[{"id":"f","mid":1,"set":{"x":1}}]}`); s != 200 {
		t.Fatalf("another client is limited too: %d", s)
	}
	for _, c := range n.pullAll("orders") {
		if c.ID == "e" {
			t.Fatal("a rate-limited push was written")
		}
	}
}

func TestSchemaIsServedAndEnforced(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		var sr protocol.SchemaResponse
		if s := n.do("GET", "/v1/collections/tickets/schema", "", "", &sr); s != 200 || sr.Collection != "tickets" ||
			sr.Types["hours"] != "counter" || !strings.Contains(string(sr.Schema), `"required"`) || sr.Version == "" {
			t.Fatalf("schema: %d %+v", s, sr)
		}
		ok := `{"mutations":[{"id":"t1","mid":1,"set":{"status":"open"},"incr":{"hours":5}}]}`
		if s, _, bad := n.pushTo("tickets", "c1", ok); s != 200 {
			t.Fatalf("valid push: %d %+v", s, bad)
		}
		for i, body := range []string{
			`{"mutations":[{"id":"t2","mid":2,"set":{"title":"no status"}}]}`,
			`{"mutations":[{"id":"t1","mid":3,"set":{"status":"lost"}}]}`,
			`{"mutations":[{"id":"t1","mid":4,"incr":{"hours":500}}]}`,
			`{"mutations":[{"id":"t3","mid":5,"set":{"status":"open"}},{"id":"t1","mid":6,"unset":["status"]}]}`,
		} {
			s, _, bad := n.pushTo("tickets", "c1", body)
			if s != 400 || bad.Error.Code != protocol.CodeSchemaViolation || bad.Error.Details["path"] == nil || bad.Error.Details["rule"] == nil {
				t.Fatalf("push %d: %d %+v", i, s, bad)
			}
		}
		var page protocol.PullResponse
		n.do("GET", "/v1/collections/tickets/pull", "", "", &page)
		if len(page.Changes) != 1 || string(page.Changes[0].Doc) != `{"id":"t1","hours":5,"status":"open"}` || page.SchemaVersion != sr.Version {
			t.Fatalf("after refused pushes: %+v", page)
		}
	})
}

func (n *testNode) pushTo(coll, client, body string) (int, protocol.PushResponse, protocol.ErrorBody) {
	n.t.Helper()
	var raw json.RawMessage
	status := n.do("POST", "/v1/collections/"+coll+"/push", client, body, &raw)
	var ok protocol.PushResponse
	var bad protocol.ErrorBody
	if status == 200 {
		_ = json.Unmarshal(raw, &ok)
	} else {
		_ = json.Unmarshal(raw, &bad)
	}
	return status, ok, bad
}
