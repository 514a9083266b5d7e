package httpapi_test

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/httpapi"
)

// TestLocalOnlyNodeRefusesOtherHosts: lattice dev answers only loopback Host
// headers, so a web page cannot reach it through DNS rebinding.
func TestLocalOnlyNodeRefusesOtherHosts(t *testing.T) {
	n := newTestNodeWith(t, openStore(t), func(c *httpapi.Config) { c.LocalhostOnly = true })
	addr := strings.TrimPrefix(n.srv.URL, "http://")
	for host, want := range map[string]string{"localhost:8080": "200", "127.0.0.1": "200", "[::1]:80": "200",
		"app.localhost": "200", "evil.example": "403", "evil.example:8080": "403", "10.0.0.1": "403"} {
		if got := statusWithHost(t, addr, host); got != want {
			t.Errorf("Host %s: %s, want %s", host, got, want)
		}
	}
}

func statusWithHost(t *testing.T, addr, host string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write([]byte("GET /v1/collections/orders/pull HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"))
	line, _ := bufio.NewReader(c).ReadString('\n')
	if f := strings.Fields(line); len(f) > 1 {
		return f[1]
	}
	return line
}

// TestCORS: preflights of allowed origins are answered, answers (streams too)
// carry the origin, and other origins get no CORS headers.
func TestCORS(t *testing.T) {
	n := newTestNodeWith(t, openStore(t), func(c *httpapi.Config) {
		c.AllowedOrigins = []string{"http://localhost:*", "https://app.example.com"}
	})
	pre := func(origin string) *http.Response {
		req, _ := http.NewRequest("OPTIONS", n.srv.URL+"/v1/collections/orders/push", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type, lattice-client")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, origin := range []string{"http://localhost:5173", "https://app.example.com"} {
		resp := pre(origin)
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Lattice-Client") {
			t.Errorf("preflight from %s: %d %v", origin, resp.StatusCode, resp.Header)
		}
	}
	for _, origin := range []string{"https://evil.example", "http://localhost.evil.example", "http://localhost:80x"} {
		if resp := pre(origin); resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from %s allowed", origin)
		}
	}
	req, _ := http.NewRequest("GET", n.srv.URL+"/v1/stream?collections=orders", nil)
	req.Header.Set("Origin", "https://app.example.com")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("stream from an allowed origin: %d %v", resp.StatusCode, resp.Header)
	}
}
