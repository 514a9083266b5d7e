package httpapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
	"github.com/lattice-sync/lattice/syncnode/store/mongostore"
)

// cutProxy forwards TCP to a target until cut, then refuses and drops connections.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	go p.accept()
	return p
}

func (p *cutProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		s, err := net.Dial("tcp", p.target)
		if down || err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		go func() { _, _ = io.Copy(c, s); c.Close() }()
	}
}

// setDown cuts (true) or restores (false) the link; cutting drops open connections.
func (p *cutProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

// TestStoreUnreachableAnswers503AndWritesNothing cuts the node off from MongoDB: a
// push gets 503 unavailable with Retry-After, and once the store is back the
// collection shows nothing of it; the retried push then succeeds.
func TestStoreUnreachableAnswers503AndWritesNothing(t *testing.T) {
	srv := ferrettest.Start(t)
	u, err := url.Parse(srv.URI)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	q := u.Query()
	q.Set("serverSelectionTimeoutMS", "500")
	q.Set("connectTimeoutMS", "500")
	u.RawQuery = q.Encode()
	st, err := mongostore.Open(context.Background(), mongostore.Config{URI: u.String(), Database: srv.Database})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close(context.Background()) })
	n := newTestNode(t, st)
	if s, _, bad := n.push("c1", `{"mutations":[{"id":"a","mid":1,"set":{"x":1}}]}`); s != 200 {
		t.Fatalf("push before the cut: %d %+v", s, bad)
	}
	proxy.setDown(true)
	retry := `{"mutations":[{"id":"b","mid":2,"set":{"x":2}}]}`
	req, _ := http.NewRequest("POST", n.srv.URL+"/v1/collections/orders/push", strings.NewReader(retry))
	req.Header.Set("Lattice-Client", "c1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var eb protocol.ErrorBody
	_ = decode(resp, &eb)
	resp.Body.Close()
	if resp.StatusCode != 503 || eb.Error.Code != protocol.CodeUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("push while cut off: %d %+v Retry-After=%q", resp.StatusCode, eb, resp.Header.Get("Retry-After"))
	}
	if s := n.do("GET", "/readyz", "", "", nil); s != 503 {
		t.Fatalf("readyz while cut off: %d", s)
	}
	proxy.setDown(false)
	if got := n.pullAll("orders"); len(got) != 1 || got[0].ID != "a" {
		t.Fatalf("after the outage: %+v", got)
	}
	if s, _, bad := n.push("c1", retry); s != 200 {
		t.Fatalf("retried push: %d %+v", s, bad)
	}
}
