package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/auth"
)

// authPrincipalNone is what lattice dev authenticates every request as.
var authPrincipalNone = auth.Principal{Subject: auth.AnonymousSubject, Scopes: []string{"*"}}

// FuzzStreamPosition fuzzes what a client controls about where a stream starts:
// Last-Event-ID and ?checkpoint=. Either is refused with a 400, or every listed
// collection gets a cursor and the id the stream would send parses back to it.
func FuzzStreamPosition(f *testing.F) {
	for _, s := range []string{"s1.orders=5,parts=1a", "s1.", "s1.orders=", "c1.7", "", "s1.orders=zzzzzzzzzzzzzz", "s1.a=1,a=2"} {
		f.Add(s, "c1.3")
	}
	f.Fuzz(func(t *testing.T, lastEventID, checkpoint string) {
		r := httptest.NewRequest("GET", "/v1/stream", nil)
		r.URL.RawQuery = "checkpoint=" + strings.ReplaceAll(checkpoint, "&", "")
		if lastEventID != "" {
			r.Header["Last-Event-Id"] = []string{lastEventID}
		}
		colls := []string{"orders", "parts"}
		cursors, err := startCursors(r, colls)
		if err != nil {
			if e := toAPIError(err); e.status != http.StatusBadRequest {
				t.Fatalf("refused with %d, want 400: %v", e.status, err)
			}
			return
		}
		back, err := parseStreamID(streamID(cursors))
		if err != nil {
			t.Fatalf("the stream's own id %q does not parse: %v", streamID(cursors), err)
		}
		for _, c := range colls {
			if back[c] != cursors[c] {
				t.Fatalf("cursor of %s: %d, round trip %d", c, cursors[c], back[c])
			}
		}
	})
}

// FuzzCallerKey fuzzes the headers the rate limit and the retention read before
// anything else: whatever they hold, the key is bounded and never carries an
// invalid client id.
func FuzzCallerKey(f *testing.F) {
	for _, s := range []string{"tablet-7", "", strings.Repeat("x", 200), "a b", "é", "\x00"} {
		f.Add(s, "10.0.0.1:1234")
	}
	f.Fuzz(func(t *testing.T, client, remote string) {
		r := httptest.NewRequest("GET", "/v1/collections/orders/pull", nil)
		r.Header["Lattice-Client"] = []string{client}
		r.RemoteAddr = remote
		key := callerKey(r, authPrincipalNone)
		if len(key) > 8+128 && !strings.HasPrefix(key, "addr:") {
			t.Fatalf("key of %d bytes: %q", len(key), key)
		}
		if rest, ok := strings.CutPrefix(key, "client:"); ok && rest != client {
			t.Fatalf("client key %q for header %q", key, client)
		}
	})
}
