package syncnode_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/config"
)

// TestAdminListenerServesMetricsAndTheMainOneDoesNot: with admin.listen, /metrics
// moves off the public listener.
func TestAdminListenerServesMetricsAndTheMainOneDoesNot(t *testing.T) {
	n := startNodeWith(t, func(c *config.Config) { c.Admin.Listen = "127.0.0.1:0" })
	if got := status(t, http.DefaultClient, n.url+"/metrics"); got != 404 {
		t.Errorf("main listener /metrics: %d, want 404", got)
	}
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		if got := status(t, http.DefaultClient, n.adminURL+p); got != 200 {
			t.Errorf("admin listener %s: %d", p, got)
		}
	}
}

// TestTLS: with tls.certFile and tls.keyFile the node serves HTTPS, pushes and
// streams included.
func TestTLS(t *testing.T) {
	cert, key, pool := selfSigned(t)
	n := startNodeWith(t, func(c *config.Config) { c.TLS = config.TLSConfig{CertFile: cert, KeyFile: key} })
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	if got := status(t, client, n.url+"/healthz"); got != 200 {
		t.Fatalf("https healthz: %d", got)
	}
	if got := status(t, http.DefaultClient, strings.Replace(n.url, "https", "http", 1)+"/healthz"); got == 200 {
		t.Fatal("plain http answered on a TLS listener")
	}
	resp, err := client.Get(n.url + "/v1/stream?collections=orders")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("https stream: %v %v", resp, err)
	}
	defer resp.Body.Close()
	req, _ := http.NewRequest("POST", n.url+"/v1/collections/orders/push", strings.NewReader(`{"mutations":[{"id":"tls","mid":1,"set":{"x":1}}]}`))
	req.Header.Set("Lattice-Client", "c1")
	push, err := client.Do(req)
	if err != nil || push.StatusCode != 200 {
		t.Fatalf("https push: %v %v", push, err)
	}
	push.Body.Close()
	buf := make([]byte, 4096)
	var got strings.Builder
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(got.String(), `"tls"`); {
		if time.Now().After(deadline) {
			t.Fatalf("no event over https: %q", got.String())
		}
		k, err := resp.Body.Read(buf)
		got.Write(buf[:k])
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
	}
}

func status(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns their
// paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "lattice test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
	parsed, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(parsed)
	return certFile, keyFile, pool
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
