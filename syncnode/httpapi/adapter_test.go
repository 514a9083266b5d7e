package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
)

// post sends body with a Lattice-Client header and decodes the answer into out.
func (n *testNode) post(path, client, body string, out any) int {
	n.t.Helper()
	return n.do("POST", path, client, body, out)
}

func TestAdapterEndpointsRefuseBadInput(t *testing.T) {
	n := newTestNode(t, openStore(t))
	cases := []struct {
		name, method, path, client, body string
		status                           int
		code                             string
	}{
		{"rxdb push: malformed JSON", "POST", "/v1/rxdb/orders/push", "c1", `[{`, 400, "invalid_json"},
		{"rxdb push: not an array", "POST", "/v1/rxdb/orders/push", "c1", `{"a":1}`, 400, "invalid_mutation"},
		{"rxdb push: unknown row field", "POST", "/v1/rxdb/orders/push", "c1", `[{"doc":{}}]`, 400, "invalid_mutation"},
		{"rxdb push: row without id", "POST", "/v1/rxdb/orders/push", "c1", `[{"assumedMasterState":null,"newDocumentState":{"x":1}}]`, 400, "invalid_mutation"},
		{"rxdb push: no Lattice-Client", "POST", "/v1/rxdb/orders/push", "", `[{"assumedMasterState":null,"newDocumentState":{"id":"a"}}]`, 400, "invalid_mutation"},
		{"rxdb push: text field not a string", "POST", "/v1/rxdb/orders/push", "c1", `[{"assumedMasterState":null,"newDocumentState":{"id":"a","notes":5}}]`, 400, "type_mismatch"},
		{"rxdb push: bad base version", "POST", "/v1/rxdb/orders/push", "c1", `[{"assumedMasterState":{"id":"a","latticeVersion":"zz"},"newDocumentState":{"id":"a","x":1}}]`, 400, "invalid_mutation"},
		{"rxdb push: unknown collection", "POST", "/v1/rxdb/nope/push", "c1", `[]`, 404, "unknown_collection"},
		{"rxdb pull: checkpoint not JSON", "GET", "/v1/rxdb/orders/pull?checkpoint=c1.5", "", "", 400, "invalid_checkpoint"},
		{"rxdb pull: foreign checkpoint", "GET", `/v1/rxdb/orders/pull?checkpoint={"checkpoint":"x"}`, "", "", 400, "invalid_checkpoint"},
		{"rxdb pull: bad batchSize", "GET", "/v1/rxdb/orders/pull?batchSize=0", "", "", 400, "invalid_parameter"},
		{"rxdb stream: bad Last-Event-ID", "GET", "/v1/rxdb/orders/stream", "", "", 400, "invalid_checkpoint"},
		{"signaldb push: unknown field", "POST", "/v1/signaldb/orders/push", "c1", `{"changes":{},"extra":1}`, 400, "invalid_mutation"},
		{"signaldb push: item without id", "POST", "/v1/signaldb/orders/push", "c1", `{"changes":{"added":[{"x":1}]}}`, 400, "invalid_mutation"},
		{"signaldb push: bad base", "POST", "/v1/signaldb/orders/push", "c1", `{"changes":{"modified":[{"id":"a","latticeBase":"{"}]}}`, 400, "invalid_mutation"},
		{"signaldb pull: bad checkpoint", "GET", "/v1/signaldb/orders/pull?checkpoint=nope", "", "", 400, "invalid_checkpoint"},
		{"watermelon pull: no tables", "GET", "/v1/watermelon/pull", "", "", 400, "invalid_parameter"},
		{"watermelon pull: unknown table", "GET", "/v1/watermelon/pull?tables=orders,nope", "", "", 404, "unknown_collection"},
		{"watermelon pull: internal table", "GET", "/v1/watermelon/pull?tables=_lattice_watermelon", "", "", 404, "unknown_collection"},
		{"watermelon pull: not a number", "GET", "/v1/watermelon/pull?tables=orders&last_pulled_at=abc", "", "", 400, "invalid_checkpoint"},
		{"watermelon pull: unknown timestamp", "GET", "/v1/watermelon/pull?tables=orders&last_pulled_at=99", "", "", 400, "invalid_checkpoint"},
		{"watermelon push: unknown table", "POST", "/v1/watermelon/push", "c1", `{"changes":{"nope":{"created":[],"updated":[],"deleted":[]}}}`, 404, "unknown_collection"},
		{"watermelon push: row without id", "POST", "/v1/watermelon/push", "c1", `{"changes":{"orders":{"created":[{"x":1}]}}}`, 400, "invalid_mutation"},
		{"watermelon push: malformed", "POST", "/v1/watermelon/push", "c1", `{"changes":`, 400, "invalid_json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, n.srv.URL+c.path, strings.NewReader(c.body))
			if c.client != "" {
				req.Header.Set("Lattice-Client", c.client)
			}
			if strings.Contains(c.path, "/stream") {
				req.Header.Set("Last-Event-ID", "garbage")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var eb struct{ Error struct{ Code string } }
			_ = json.NewDecoder(resp.Body).Decode(&eb)
			if resp.StatusCode != c.status || eb.Error.Code != c.code {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, eb.Error.Code, c.status, c.code)
			}
		})
	}
	if got := n.pullAll("orders"); len(got) != 0 {
		t.Fatalf("refused requests wrote %d documents", len(got))
	}
}

func TestAdapterEndpointsCheckAuth(t *testing.T) {
	n := newJWTNode(t)
	pushes := map[string]string{
		"/v1/rxdb/orders/push":     `[{"assumedMasterState":null,"newDocumentState":{"id":"d","x":1}}]`,
		"/v1/signaldb/orders/push": `{"changes":{"added":[{"id":"d","x":1}],"modified":[],"removed":[]}}`,
		"/v1/watermelon/push":      `{"changes":{"orders":{"created":[{"id":"d","x":1}],"updated":[],"deleted":[]}}}`,
	}
	reads := []string{"/v1/rxdb/orders/pull", "/v1/signaldb/orders/pull", "/v1/watermelon/pull?tables=orders", "/v1/rxdb/orders/stream", "/v1/signaldb/orders/stream"}
	readOnly, other := signed(t, "acme", "read:orders"), signed(t, "globex", "*")
	for path, body := range pushes {
		for token, want := range map[string]int{"": 401, "junk": 401, other: 403, readOnly: 403} {
			if s, _ := n.authed("POST", path, token, body); s != want {
				t.Errorf("POST %s: got %d, want %d", path, s, want)
			}
		}
	}
	for _, path := range reads {
		for token, want := range map[string]int{"": 401, other: 403, signed(t, "acme", "read:invoices write:orders"): 403} {
			if s, _ := n.authed("GET", path, token, ""); s != want {
				t.Errorf("GET %s: got %d, want %d", path, s, want)
			}
		}
	}
	if s, _ := n.authed("GET", "/v1/watermelon/pull?tables=orders,invoices", readOnly, ""); s != 403 {
		t.Errorf("watermelon pull of a table outside the scope: %d", s)
	}
	if s, _ := n.authed("GET", "/v1/rxdb/orders/pull?access_token="+readOnly, "", ""); s != 401 {
		t.Errorf("token in the query of a pull (only streams take one there): %d, want 401", s)
	}
	if got := n.pullAllAs("orders", signed(t, "acme", "*")); got != 0 {
		t.Fatalf("refused requests wrote %d documents", got)
	}
}

func (n *testNode) pullAllAs(coll, token string) int {
	var page struct{ Changes []json.RawMessage }
	req, _ := http.NewRequest("GET", n.srv.URL+"/v1/collections/"+coll+"/pull", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(&page)
	return len(page.Changes)
}

// rxDoc pulls one document through the RxDB adapter.
func (n *testNode) rxDoc(t *testing.T, id string) map[string]any {
	t.Helper()
	var page struct{ Documents []map[string]any }
	if s := n.do("GET", "/v1/rxdb/orders/pull", "", "", &page); s != 200 {
		t.Fatalf("rxdb pull: %d", s)
	}
	for _, d := range page.Documents {
		if d["id"] == id {
			return d
		}
	}
	return nil
}

func TestRxdbPushMergesFieldsAndText(t *testing.T) {
	n := newTestNode(t, openStore(t))
	var conflicts []map[string]any
	if s := n.post("/v1/rxdb/orders/push", "a", `[{"assumedMasterState":null,"newDocumentState":{"id":"o","title":"t","owner":"o","notes":"check the pump","_deleted":false}}]`, &conflicts); s != 200 {
		t.Fatalf("create: %d", s)
	}
	base := n.rxDoc(t, "o")
	baseJSON, _ := json.Marshal(base)
	row := func(set map[string]any) string {
		next := map[string]any{}
		for k, v := range base {
			next[k] = v
		}
		for k, v := range set {
			next[k] = v
		}
		nextJSON, _ := json.Marshal(next)
		return `[{"assumedMasterState":` + string(baseJSON) + `,"newDocumentState":` + string(nextJSON) + `}]`
	}
	if s := n.post("/v1/rxdb/orders/push", "a", row(map[string]any{"title": "by a", "notes": "URGENT check the pump"}), &conflicts); s != 200 {
		t.Fatalf("push a: %d", s)
	}
	bRow := row(map[string]any{"owner": "by b", "notes": "check the pump and valve"})
	if s := n.post("/v1/rxdb/orders/push", "b", bRow, &conflicts); s != 200 || len(conflicts) != 1 {
		t.Fatalf("push b: %d, %d master states", s, len(conflicts))
	}
	want := map[string]any{"title": "by a", "owner": "by b", "notes": "URGENT check the pump and valve"}
	for k, v := range want {
		if conflicts[0][k] != v {
			t.Fatalf("master state %v, want %s=%v", conflicts[0], k, v)
		}
	}
	version := n.rxDoc(t, "o")["latticeVersion"]
	// A retry of b's push (same body) changes nothing: the text edit is not doubled.
	if s := n.post("/v1/rxdb/orders/push", "b", bRow, &conflicts); s != 200 {
		t.Fatalf("retry: %d", s)
	}
	if d := n.rxDoc(t, "o"); d["latticeVersion"] != version || d["notes"] != want["notes"] {
		t.Fatalf("retry changed the document: %v", d)
	}
}

func TestWatermelonTimestampResumesEveryTable(t *testing.T) {
	n := newTestNode(t, openStore(t))
	var first, second, third struct {
		Changes   map[string]struct{ Created, Updated []map[string]any }
		Timestamp uint64
	}
	n.post("/v1/watermelon/push", "w", `{"changes":{"orders":{"created":[{"id":"a","x":1,"_status":"created","_changed":""}]},"tickets":{"created":[{"id":"t","status":"open"}]}}}`, nil)
	if s := n.do("GET", "/v1/watermelon/pull?tables=orders,tickets", "", "", &first); s != 200 || first.Timestamp == 0 {
		t.Fatalf("first pull: %d %+v", s, first)
	}
	if len(first.Changes["orders"].Created) != 1 || len(first.Changes["tickets"].Created) != 1 {
		t.Fatalf("first pull: %+v", first.Changes)
	}
	n.post("/v1/watermelon/push", "w", `{"changes":{"orders":{"updated":[{"id":"a","x":2,"y":3,"_status":"updated","_changed":"x"}]}}}`, nil)
	ts := func(v uint64) string { b, _ := json.Marshal(v); return string(b) }
	n.do("GET", "/v1/watermelon/pull?tables=orders,tickets&last_pulled_at="+ts(first.Timestamp), "", "", &second)
	up := second.Changes["orders"].Updated
	if len(up) != 1 || up[0]["x"] != float64(2) || up[0]["y"] != nil || len(second.Changes["tickets"].Updated) != 0 {
		t.Fatalf("second pull (only _changed columns written): %+v", second.Changes)
	}
	n.do("GET", "/v1/watermelon/pull?tables=orders,tickets&last_pulled_at="+ts(second.Timestamp), "", "", &third)
	if third.Timestamp != second.Timestamp || len(third.Changes["orders"].Updated) != 0 {
		t.Fatalf("a pull that moved nothing: %+v (timestamp %d, before %d)", third.Changes, third.Timestamp, second.Timestamp)
	}
}

func TestAdapterStreamStartsWithResyncThenLiveChanges(t *testing.T) {
	n := newTestNode(t, openStore(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", n.srv.URL+"/v1/rxdb/orders/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	data := func() (string, string) {
		var id string
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "event:") {
				t.Fatalf("adapter streams have unnamed events: %q", line)
			}
			if v, ok := strings.CutPrefix(line, "id: "); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(line, "data: "); ok {
				return id, v
			}
		}
		t.Fatal("stream ended")
		return "", ""
	}
	if _, d := data(); d != `"RESYNC"` {
		t.Fatalf("first event %s, want \"RESYNC\"", d)
	}
	n.post("/v1/rxdb/orders/push", "a", `[{"assumedMasterState":null,"newDocumentState":{"id":"live","x":1}}]`, nil)
	id, d := data()
	if !strings.Contains(d, `"id":"live"`) || !strings.Contains(d, `"checkpoint":{"checkpoint":"`+id+`"}`) {
		t.Fatalf("event id %s data %s", id, d)
	}
}

func TestAdapterPushWithOneDocumentTwiceAppliesBoth(t *testing.T) {
	n := newTestNode(t, openStore(t))
	body := `{"changes":{"orders":{"created":[{"id":"d","x":1}],"updated":[{"id":"d","y":2,"_changed":"y"}],"deleted":[]}}}`
	if s := n.post("/v1/watermelon/push", "w", body, nil); s != 200 {
		t.Fatalf("push: %d", s)
	}
	if d := n.rxDoc(t, "d"); d["x"] != float64(1) || d["y"] != float64(2) {
		t.Fatalf("stored %v, want x=1 and y=2", d)
	}
}

// TestWatermelonPushIsRefusedWholeAcrossTables sends a push whose second table
// violates its schema: 400 schema_violation, and the first table is not written.
func TestWatermelonPushIsRefusedWholeAcrossTables(t *testing.T) {
	n := newTestNode(t, openStore(t))
	body := `{"changes":{"orders":{"created":[{"id":"a","x":1}]},"tickets":{"created":[{"id":"t","status":"lost"}]}}}`
	var eb protocol.ErrorBody
	if s := n.post("/v1/watermelon/push", "w", body, &eb); s != 400 || eb.Error.Code != protocol.CodeSchemaViolation {
		t.Fatalf("got %d %+v", s, eb)
	}
	if got := n.pullAll("orders"); len(got) != 0 {
		t.Fatalf("the valid table was written: %+v", got)
	}
}
