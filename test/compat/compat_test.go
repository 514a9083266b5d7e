// Package compat runs the real client libraries (RxDB, SignalDB, WatermelonDB, in
// Node) against a `lattice dev` node. The Go side builds and starts the node, puts a
// small control proxy in front of it (503 on demand, node restart) and runs
// test/compat/run.js with the node URL(s).
package compat

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/lattice-sync/lattice/internal/testenv"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
)

const nodeConfig = `collections:
  tasks:
    fields: {notes: text}
    schema: {"type": "object", "properties": {"status": {"enum": ["open", "done"]}, "notes": {"type": "string"}}}
autoCollections: true
limits: {requestsPerSecond: 0, maxPageBytes: 262144}
`

// TestClientLibraries runs every scenario against `lattice dev` (embedded store, no
// auth) and against `lattice serve` on FerretDB with JWT auth (the control proxy adds
// the token, as the glue's token option would).
func TestClientLibraries(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: the real client libraries run in Node")
	}
	root, _ := filepath.Abs("../..")
	if out, err := exec.Command(filepath.Join(root, "hack/npm.sh")).CombinedOutput(); err != nil {
		t.Fatalf("hack/npm.sh: %v\n%s", err, out)
	}
	bin := testenv.BuildLattice(t, root)
	t.Run("dev", func(t *testing.T) { runScenarios(t, root, startNode(t, bin, nil)) })
	t.Run("serve-ferretdb", func(t *testing.T) {
		srv := ferrettest.Start(t)
		serve := &serveMode{mongoURI: srv.URI, database: srv.Database, token: compatToken(t)}
		runScenarios(t, root, startNode(t, bin, serve))
	})
}

const compatSecret = "compat-test-secret-0123456789abcdef"

// serveMode makes a node run `lattice serve` on MongoDB with HS256 tokens.
type serveMode struct {
	mongoURI, database, token string
}

func compatToken(t *testing.T) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "compat", "tenant": "compat", "scope": "*", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(compatSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func runScenarios(t *testing.T, root string, n *node) {
	ctl := &control{node: n}
	proxy := httptest(t, ctl.proxy())
	ctlURL := httptest(t, ctl.mux())
	args := []string{"run.js", "--url", proxy, "--control", ctlURL}
	if only := os.Getenv("COMPAT_ONLY"); only != "" {
		args = append(args, "--only", only)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = filepath.Join(root, "test/compat")
	out, err := cmd.CombinedOutput()
	t.Logf("node scenarios:\n%s", out)
	if err != nil {
		t.Fatalf("scenarios failed: %v (node log: %s)", err, n.logPath)
	}
}

// node is a running `lattice dev`.
type node struct {
	t                  *testing.T
	bin, addr, dataDir string
	config, logPath    string
	serve              *serveMode // nil: lattice dev
	mu                 sync.Mutex
	cmd                *exec.Cmd
}

func startNode(t *testing.T, bin string, serve *serveMode) *node {
	dir := t.TempDir()
	n := &node{t: t, bin: bin, addr: freeAddr(t), dataDir: filepath.Join(dir, "data"), serve: serve,
		config: filepath.Join(dir, "lattice.yaml"), logPath: filepath.Join(dir, "lattice.log")}
	if err := os.WriteFile(n.config, []byte(nodeConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.stop() })
	return n
}

func (n *node) start() error {
	logs, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(n.bin, "dev", "--listen", n.addr, "--data-dir", n.dataDir, "--config", n.config)
	if s := n.serve; s != nil {
		cmd = exec.Command(n.bin, "serve", "--listen", n.addr, "--config", n.config, "--tenant", "compat",
			"--mongodb-uri", s.mongoURI)
		cmd.Env = append(os.Environ(), "LATTICE_AUTH_HS256_SECRET="+compatSecret, "LATTICE_MONGODB_DATABASE="+s.database)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return err
	}
	n.mu.Lock()
	n.cmd = cmd
	n.mu.Unlock()
	for i := 0; i < 200; i++ {
		if resp, err := http.Get("http://" + n.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errNotReady
}

var errNotReady = errors.New("the lattice node did not become ready")

func (n *node) stop() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		_ = n.cmd.Process.Signal(syscall.SIGTERM)
		_ = n.cmd.Wait()
		n.cmd = nil
	}
}

// control fronts the node: it forwards everything, answers 503 to the next pushes
// when asked (POST /fail-pushes?n=), and restarts the node (POST /restart).
type control struct {
	node      *node
	failNext  atomic.Int64
	failedCnt atomic.Int64
}

func (c *control) proxy() http.Handler {
	target, _ := url.Parse("http://" + c.node.addr)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/push") && c.failNext.Add(-1) >= 0 {
			c.failedCnt.Add(1)
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"code":"unavailable","message":"injected by the compat test"}}`))
			return
		}
		if s := c.node.serve; s != nil && r.Header.Get("Authorization") == "" {
			r.Header.Set("Authorization", "Bearer "+s.token)
		}
		rp.ServeHTTP(w, r)
	})
}

func (c *control) mux() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST /fail-pushes", func(w http.ResponseWriter, r *http.Request) {
		k, _ := strconv.Atoi(r.URL.Query().Get("n"))
		c.failNext.Store(int64(k))
		c.failedCnt.Store(0)
		reply(w, map[string]any{"ok": true})
	})
	m.HandleFunc("POST /failed", func(w http.ResponseWriter, r *http.Request) {
		reply(w, map[string]any{"failed": c.failedCnt.Load()})
	})
	m.HandleFunc("POST /restart", func(w http.ResponseWriter, r *http.Request) {
		c.node.stop()
		if err := c.node.start(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		reply(w, map[string]any{"ok": true})
	})
	return m
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// httptest serves h on a free local port until the test ends and returns its URL.
func httptest(t *testing.T, h http.Handler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
