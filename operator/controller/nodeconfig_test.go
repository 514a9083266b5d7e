package controller_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"

	"github.com/lattice-sync/lattice/fanout/redistest"
	"github.com/lattice-sync/lattice/internal/testenv"
	"github.com/lattice-sync/lattice/operator/specs"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
)

// TestRenderedConfigServes takes the ConfigMap the operator wrote for the small
// sample and starts `lattice serve --config` on it, with the credentials the pods
// would get from the Secrets: the node must come up ready and serve the declared
// collections (and only those).
func TestRenderedConfigServes(t *testing.T) {
	db, rds := ferrettest.Start(t), redistest.Start(t)
	ns := newNamespace(t)
	secret := strings.Repeat("s", 40)
	createSecrets(t, ns, db.URI, rds.URL)
	c := sampleCluster(t, ns)
	c.Spec.MongoDB.Database = db.Database
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	eventually(t, "the ConfigMap", func() (bool, string) { return get(t, ns, c.Name, &cm) == nil, "" })
	dir := t.TempDir()
	// The pods listen on fixed ports; here they must be free ones.
	text := strings.Replace(cm.Data[specs.ConfigFile], fmt.Sprintf(":%d", specs.AdminPort), freeAddr(t), 1)
	cfgFile := filepath.Join(dir, specs.ConfigFile)
	if err := os.WriteFile(cfgFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	cmd := exec.Command(testenv.BuildLattice(t, repo), "serve", "--config", cfgFile, "--listen", addr)
	cmd.Env = append(os.Environ(), "LATTICE_MONGODB_URI="+db.URI, "LATTICE_REDIS_URL="+rds.URL, "LATTICE_AUTH_HS256_SECRET="+secret)
	cmd.Stderr = &testLog{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	eventually(t, "the node ready", func() (bool, string) {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	token := signToken(t, secret)
	push := `{"mutations":[{"id":"wo-1","mid":1,"set":{"status":"open"},"incr":{"hours":1.5}}]}`
	if s := call(t, "POST", base+"/v1/collections/workorders/push", token, push); s != 200 {
		t.Fatalf("push to a declared collection: %d", s)
	}
	if s := call(t, "POST", base+"/v1/collections/undeclared/push", token, push); s != 404 {
		t.Fatalf("push to an undeclared collection: %d, want 404", s)
	}
	bad := `{"mutations":[{"id":"wo-2","mid":2,"set":{"status":"lost"}}]}`
	if s := call(t, "POST", base+"/v1/collections/workorders/push", token, bad); s != 400 {
		t.Fatalf("push against the collection's schema: %d, want 400", s)
	}
}

func signToken(t *testing.T, secret string) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "tech-1", "tenant": "acme", "scope": "*",
		"exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func call(t *testing.T, method, url, token, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Lattice-Client", "tablet-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// testLog writes a process's output to the test log.
type testLog struct{ t *testing.T }

func (l *testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
