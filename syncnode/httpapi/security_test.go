package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// The security suite (issue 17): one case per finding, each asserting the status,
// the error code and that nothing changed.

// newRetentionJWTNode is newJWTNode with client retention, so that requests record
// their Lattice-Client in the store.
func newRetentionJWTNode(t *testing.T) (*testNode, store.Clients) {
	var clients store.Clients
	n := newJWTNodeWith(t, func(c *httpapi.Config) {
		clients = c.Store.(store.Clients)
		c.Clients, c.Retention = clients, time.Hour
	})
	return n, clients
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

// tokenFor signs a token of tenant acme with every scope for subject sub.
func tokenFor(t *testing.T, sub string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": sub, "tenant": "acme", "scope": "*", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// requestAs sends a request with a token (none when empty) and a client id and
// returns the status and the error code.
func requestAs(t *testing.T, n *testNode, method, path, token, client, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, n.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Lattice-Client", client)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb protocol.ErrorBody
	if resp.StatusCode != 200 {
		_ = json.NewDecoder(resp.Body).Decode(&eb)
	}
	return resp.StatusCode, eb.Error.Code
}

// TestRateLimitIsKeyedOnTheTokenSubject: new client ids do not escape a user's
// limit, another user's client id does not lock them out, and streams count.
func TestRateLimitIsKeyedOnTheTokenSubject(t *testing.T) {
	n := newJWTNodeWith(t, func(c *httpapi.Config) { c.RequestsPerSecond, c.Burst = 0.01, 2 })
	u, v := tokenFor(t, "u"), tokenFor(t, "v")
	for i, client := range []string{"victim", "a2"} { // u's burst
		if s, code := requestAs(t, n, "GET", "/v1/collections/orders/pull", u, client, ""); s != 200 {
			t.Fatalf("request %d of u: %d %s", i, s, code)
		}
	}
	if s, code := requestAs(t, n, "GET", "/v1/collections/orders/pull", u, "brand-new-id", ""); s != 429 || code != protocol.CodeRateLimited {
		t.Errorf("u with a new client id past the limit: %d %s, want 429", s, code)
	}
	if s, code := requestAs(t, n, "GET", "/v1/stream?collections=orders", u, "another-id", ""); s != 429 {
		t.Errorf("u's stream past the limit: %d %s, want 429", s, code)
	}
	if s, code := requestAs(t, n, "GET", "/v1/collections/orders/pull", v, "victim", ""); s != 200 {
		t.Errorf("v using the id u used: %d %s, want 200", s, code)
	}
}

// TestPerAddressLimitComesBeforeAuthentication: a flood without tokens is answered
// 429 by the address limit before any token is checked.
func TestPerAddressLimitComesBeforeAuthentication(t *testing.T) {
	n := newJWTNodeWith(t, func(c *httpapi.Config) { c.PerAddressRequestsPerSecond, c.PerAddressBurst = 0.01, 2 })
	want := []int{401, 401, 429}
	for i, w := range want {
		if s, _ := requestAs(t, n, "GET", "/v1/collections/orders/pull", "", "c1", ""); s != w {
			t.Errorf("request %d without a token: %d, want %d", i, s, w)
		}
	}
}

// TestStreamsPerSubjectAreCapped: a user past MaxStreamsPerSubject gets 429; other
// users do not.
func TestStreamsPerSubjectAreCapped(t *testing.T) {
	n := newJWTNodeWith(t, func(c *httpapi.Config) { c.MaxStreamsPerSubject = 1 })
	u := tokenFor(t, "u")
	req, _ := http.NewRequest("GET", n.srv.URL+"/v1/stream?collections=orders", nil)
	req.Header.Set("Authorization", "Bearer "+u)
	first, err := http.DefaultClient.Do(req)
	if err != nil || first.StatusCode != 200 {
		t.Fatalf("first stream: %v %v", first, err)
	}
	defer first.Body.Close()
	if s, code := requestAs(t, n, "GET", "/v1/rxdb/orders/stream", u, "c2", ""); s != 429 || code != protocol.CodeRateLimited {
		t.Errorf("u's second stream: %d %s, want 429", s, code)
	}
	resp, err := http.DefaultClient.Do(func() *http.Request {
		r, _ := http.NewRequest("GET", n.srv.URL+"/v1/stream?collections=orders", nil)
		r.Header.Set("Authorization", "Bearer "+tokenFor(t, "v"))
		return r
	}())
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("v's stream: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestInputThatEncodingJSONWouldAlterIsRefused: invalid UTF-8, unpaired surrogate
// escapes and field names that differ only in case are refused with 400 and change
// nothing, instead of being replaced (two distinct ids could collide) or matched.
func TestInputThatEncodingJSONWouldAlterIsRefused(t *testing.T) {
	n := newTestNode(t, openStore(t))
	cases := map[string]struct{ body, code string }{
		"invalid UTF-8 in an id":       {"{\"mutations\":[{\"id\":\"a\xff\",\"mid\":1,\"set\":{\"x\":1}}]}", protocol.CodeInvalidJSON},
		"invalid UTF-8 in a value":     {"{\"mutations\":[{\"id\":\"a\",\"mid\":1,\"set\":{\"x\":\"\xc3\"}}]}", protocol.CodeInvalidJSON},
		"lone high surrogate":          {`{"mutations":[{"id":"a\ud800","mid":1,"set":{"x":1}}]}`, protocol.CodeInvalidJSON},
		"lone low surrogate":           {`{"mutations":[{"id":"a\udc00","mid":1,"set":{"x":1}}]}`, protocol.CodeInvalidJSON},
		"reversed pair":                {`{"mutations":[{"id":"a\udc00\ud800","mid":1,"set":{"x":1}}]}`, protocol.CodeInvalidJSON},
		"surrogate in a value":         {`{"mutations":[{"id":"a","mid":1,"set":{"x":"\ud83d"}}]}`, protocol.CodeInvalidJSON},
		"Mutations":                    {`{"Mutations":[{"id":"a","mid":1,"set":{"x":1}}]}`, protocol.CodeInvalidMutation},
		"ID":                           {`{"mutations":[{"ID":"a","mid":1,"set":{"x":1}}]}`, protocol.CodeInvalidMutation},
		"Base in a splice":             {`{"mutations":[{"id":"a","mid":1,"splice":{"notes":{"Base":"","ops":[]}}}]}`, protocol.CodeInvalidMutation},
		"escaped key still exact only": {`{"mutations":[{"i\u0044":"a","mid":1,"set":{"x":1}}]}`, protocol.CodeInvalidMutation},
	}
	for name, c := range cases {
		if s, _, bad := n.push("c1", c.body); s != 400 || bad.Error.Code != c.code {
			t.Errorf("%s: %d %+v, want 400 %s", name, s, bad.Error, c.code)
		}
	}
	if s, _, bad := n.push("c1", `{"mutations":[{"id":"pair \ud83d\ude00","mid":1,"set":{"x":"\u00e9"}}]}`); s != 200 {
		t.Errorf("a proper surrogate pair refused: %d %+v", s, bad)
	}
	if got := n.pullAll("orders"); len(got) != 1 || got[0].ID != "pair \U0001F600" {
		t.Fatalf("refused pushes wrote something: %+v", got)
	}
}

// TestPagesHaveAByteBudget: pull pages and stream events stop at MaxPageBytes (at
// least one document each), and following the checkpoints still brings everything.
func TestPagesHaveAByteBudget(t *testing.T) {
	n := newTestNodeWith(t, openStore(t), func(c *httpapi.Config) { c.MaxPageBytes = 25 << 10 })
	pad := strings.Repeat("x", 10<<10)
	for i := range 5 {
		if s, _, bad := n.push("c1", fmt.Sprintf(`{"mutations":[{"id":"d%d","mid":%d,"set":{"pad":%q}}]}`, i, i+1, pad)); s != 200 {
			t.Fatalf("push %d: %d %+v", i, s, bad)
		}
	}
	seen, cp := map[string]bool{}, ""
	for pages := 0; ; pages++ {
		var page protocol.PullResponse
		if s := n.do("GET", "/v1/collections/orders/pull?checkpoint="+cp, "", "", &page); s != 200 {
			t.Fatalf("pull: %d", s)
		}
		if len(page.Changes) > 2 {
			t.Fatalf("a page of %d documents of 10 KB under a 25 KB budget", len(page.Changes))
		}
		for _, c := range page.Changes {
			seen[c.ID] = true
		}
		if cp = page.Checkpoint; !page.HasMore {
			break
		}
	}
	if len(seen) != 5 {
		t.Fatalf("following the checkpoints brought %d of 5 documents", len(seen))
	}
	events := n.openStream(t, "collections=orders", "")
	for got := 0; got < 5; {
		_, sc := next(t, events)
		if len(sc.Changes) > 2 {
			t.Fatalf("a stream event of %d documents under the budget", len(sc.Changes))
		}
		got += len(sc.Changes)
	}
}

// TestAnotherUsersDeviceIDCannotSilenceIt: a user who pushes under another user's
// device id, with the highest mid there is, writes under an actor of their own; the
// device's owner keeps writing, and neither versions nor clocks reveal the id.
func TestAnotherUsersDeviceIDCannotSilenceIt(t *testing.T) {
	n := newJWTNode(t)
	mallory, anna := tokenFor(t, "mallory"), tokenFor(t, "anna")
	const maxMid = 1 << 53
	if s, code := requestAs(t, n, "POST", "/v1/collections/orders/push", mallory, "tablet-7",
		fmt.Sprintf(`{"mutations":[{"id":"wo-1","mid":%d,"set":{"status":"hijacked"}}]}`, maxMid)); s != 200 {
		t.Fatalf("mallory's push: %d %s", s, code)
	}
	if s, code := requestAs(t, n, "POST", "/v1/collections/orders/push", anna, "tablet-7",
		`{"mutations":[{"id":"wo-1","mid":5,"set":{"status":"fixed"}}]}`); s != 200 {
		t.Fatalf("anna's push: %d %s", s, code)
	}
	change := pullOne(t, n, anna, "/v1/collections/orders/pull?clocks=1")
	if !strings.Contains(string(change.Doc), `"status":"fixed"`) {
		t.Fatalf("anna's later push was swallowed: %s", change.Doc)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(change.Version, "v1."))
	if err != nil || strings.Contains(string(raw), "tablet-7") {
		t.Errorf("the version reveals the device id (or is not v1: %v): %q", err, raw)
	}
	for path, clock := range change.Clocks {
		if strings.Contains(clock, "tablet-7") {
			t.Errorf("the clock of %s reveals the device id: %s", path, clock)
		}
	}
}

// pullOne pulls path with token and returns its only change.
func pullOne(t *testing.T, n *testNode, token, path string) protocol.Change {
	t.Helper()
	req, _ := http.NewRequest("GET", n.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page protocol.PullResponse
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || len(page.Changes) != 1 {
		t.Fatalf("pull %s: %d, %v, %+v", path, resp.StatusCode, err, page)
	}
	return page.Changes[0]
}

// TestMergeMetadataCountsTowardTheDocumentLimit: pushes from ever new devices to a
// tiny document grow its version and state, not its JSON; past limits.maxDocBytes
// the next one is refused (413 too_large) and changes nothing.
func TestMergeMetadataCountsTowardTheDocumentLimit(t *testing.T) {
	const limit = 4096
	n := newJWTNodeWith(t, func(c *httpapi.Config) {
		c.Engine = merge.New(merge.Config{Store: c.Store, MaxDocBytes: limit})
	})
	token := tokenFor(t, "anna")
	if s, code := requestAs(t, n, "POST", "/v1/collections/orders/push", token, "first", `{"mutations":[{"id":"wo-1","mid":1,"set":{"n":0}}]}`); s != 200 {
		t.Fatalf("first push: %d %s", s, code)
	}
	for i := range 1000 {
		before := pullOne(t, n, token, "/v1/collections/orders/pull")
		s, code := requestAs(t, n, "POST", "/v1/collections/orders/push", token, fmt.Sprintf("device-%d", i),
			fmt.Sprintf(`{"mutations":[{"id":"wo-1","mid":1,"set":{"n":%d}}]}`, i%2))
		if s == 200 {
			continue
		}
		after := pullOne(t, n, token, "/v1/collections/orders/pull")
		if s != http.StatusRequestEntityTooLarge || code != protocol.CodeTooLarge || after.Version != before.Version {
			t.Fatalf("push %d: %d %s; version %q -> %q", i, s, code, before.Version, after.Version)
		}
		if len(before.Doc) > 100 || len(before.Version) > limit {
			t.Fatalf("the document grew to %d bytes, its version to %d", len(before.Doc), len(before.Version))
		}
		return
	}
	t.Fatal("1000 devices wrote to one document without reaching the limit")
}
