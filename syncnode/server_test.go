package syncnode_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/config"
)

// TestSlowBodyAndIdleConnectionsAreCut: a client that announces a body and sends
// one byte, and one that keeps an idle connection, are disconnected after the
// configured timeouts instead of holding a connection forever.
func TestSlowBodyAndIdleConnectionsAreCut(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.Server.ReadTimeout = config.Duration{Duration: 300 * time.Millisecond}
		c.Server.IdleTimeout = config.Duration{Duration: 300 * time.Millisecond}
	})
	addr := strings.TrimPrefix(n.url, "http://")
	slow := dial(t, addr)
	_, _ = slow.Write([]byte("POST /v1/collections/orders/push HTTP/1.1\r\nHost: localhost\r\nLattice-Client: c1\r\n" +
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"))
	waitClosed(t, slow, "slow body")
	idle := dial(t, addr)
	_, _ = idle.Write([]byte("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"))
	r := bufio.NewReader(idle)
	if line, _ := r.ReadString('\n'); !strings.Contains(line, "200") {
		t.Fatalf("healthz: %q", line)
	}
	waitClosedReader(t, idle, r, "idle keep-alive")
}

// TestOversizedHeadersAreRefused: headers past server.maxHeaderBytes get 431.
func TestOversizedHeadersAreRefused(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.Server.MaxHeaderBytes = 4096 })
	conn := dial(t, strings.TrimPrefix(n.url, "http://"))
	_, _ = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + strings.Repeat("a", 20000) + "\r\n\r\n"))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.Contains(line, "431") {
		t.Fatalf("oversized headers answered %q, want 431", line)
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func waitClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	waitClosedReader(t, c, bufio.NewReader(c), what)
}

// waitClosedReader reads until the server closes the connection (within 5 s).
func waitClosedReader(t *testing.T, c net.Conn, r *bufio.Reader, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, err := r.ReadByte(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("%s: connection still open after 5 s", what)
			}
			return
		}
	}
}

// TestStreamsOutliveTheReadTimeout: the read and idle timeouts are for requests,
// not for streams, which stay open and keep delivering.
func TestStreamsOutliveTheReadTimeout(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) {
		c.Server.ReadTimeout = config.Duration{Duration: 200 * time.Millisecond}
		c.Server.IdleTimeout = config.Duration{Duration: 200 * time.Millisecond}
	})
	stream := openSSE(t, n.url+"/v1/stream?collections=orders")
	time.Sleep(600 * time.Millisecond)
	pushOne(t, n.url, "late")
	waitForLine(t, stream, `"late"`)
}

// TestConnectionCapAndStreamsBehindIt: past server.maxConnections a connection
// waits until another closes; a detached stream behind the node's listener is
// still noticed at once when its client hangs up, freeing its slot.
func TestConnectionCapAndStreamsBehindIt(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.Server.MaxConnections = 1; c.Limits.MaxStreams = 1 })
	addr := strings.TrimPrefix(n.url, "http://")
	first := dial(t, addr)
	_, _ = first.Write([]byte("GET /v1/stream?collections=orders HTTP/1.1\r\nHost: localhost\r\n\r\n"))
	if line, _ := bufio.NewReader(first).ReadString('\n'); !strings.Contains(line, "200") {
		t.Fatalf("stream: %q", line)
	}
	second := dial(t, addr)
	_, _ = second.Write([]byte("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"))
	_ = second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := bufio.NewReader(second).ReadString('\n'); err == nil {
		t.Fatal("a second connection was served past server.maxConnections 1")
	}
	first.Close() // the stream's client hangs up: its slot frees without any write
	_ = second.SetReadDeadline(time.Now().Add(3 * time.Second))
	if line, err := bufio.NewReader(second).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("second connection after the stream closed: %q %v", line, err)
	}
}
