package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/crdt"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "lattice.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	c := Serve()
	err := c.LoadFile(writeFile(t, `
tenant: acme
store: {kind: mongodb, mongoURI: "mongodb://db:27017"}
auth: {mode: jwt, hs256Secret: "0123456789abcdef0123456789abcdef"}
clock: {maxAhead: 90s, policy: clamp}
collections:
  orders:
    fields: {hours: counter, tags: set, notes: text, parts: list, "meta.count": counter}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(false); err != nil {
		t.Fatal(err)
	}
	coll, ok := c.CollectionSet().Lookup("orders")
	if !ok || coll.Fields["notes"] != crdt.FieldText || coll.Fields["meta.count"] != crdt.FieldCounter {
		t.Fatalf("orders: %+v %v", coll, ok)
	}
	if _, ok := c.CollectionSet().Lookup("other"); ok {
		t.Fatal("undeclared collection served without autoCollections")
	}
	if c.Clock.MaxAhead.Seconds() != 90 || c.SkewPolicy() != crdt.SkewClamp {
		t.Fatalf("clock %+v", c.Clock)
	}
}

func TestLoadFileRefusesUnknownKeysAndBadYAML(t *testing.T) {
	for _, body := range []string{"tenant: acme\nlisten_addr: x\n", "tenant: [acme\n", "clock: {maxAhead: soon}\n"} {
		c := Serve()
		if err := c.LoadFile(writeFile(t, body)); err == nil {
			t.Errorf("%q accepted", body)
		}
	}
	c := Serve()
	if err := c.LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Serve()
	c.Tenant = "Bad Tenant"
	c.Store.Kind = "postgres"
	c.Auth = AuthConfig{Mode: "jwt", HS256Secret: "short"}
	c.Clock.Policy = "ignore"
	c.Limits.MaxPageBytes = 1000
	c.Collections = map[string]CollectionConfig{
		"orders":   {Fields: map[string]string{"hours": "countr", "a": "set", "a.b": "text"}},
		"bad name": {},
	}
	err := c.Validate(false)
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"tenant", "store.kind", "hs256Secret", "clock.policy", "countr", "bad name", "limits.maxPageBytes"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestAuthNoneOnlyForDev(t *testing.T) {
	c := Serve()
	c.Tenant = "acme"
	c.Auth.Mode = "none"
	if err := c.Validate(false); err == nil || !strings.Contains(err.Error(), "only for `lattice dev`") {
		t.Fatalf("serve with auth none: %v", err)
	}
	d := Dev()
	if err := d.Validate(true); err != nil {
		t.Fatalf("dev defaults: %v", err)
	}
	if _, ok := d.CollectionSet().Lookup("anything_new"); !ok {
		t.Fatal("dev does not create collections on first use")
	}
}

func TestFanoutSettings(t *testing.T) {
	c := Dev()
	if err := c.LoadFile(writeFile(t, "fanout:\n  redisURL: redis://127.0.0.1:6379/0\n  streamPrefix: \"acme:events:\"\n  maxLen: 5000\n  pollInterval: 500ms\n")); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(true); err != nil {
		t.Fatalf("valid fanout settings refused: %v", err)
	}
	if c.Fanout.MaxLen != 5000 || c.Fanout.PollInterval.Duration.Milliseconds() != 500 {
		t.Fatalf("fanout = %+v", c.Fanout)
	}
	c.Fanout = FanoutConfig{RedisURL: "http://redis", StreamPrefix: "bad prefix", MaxLen: 3, PollInterval: Duration{-1}}
	err := c.Validate(true)
	for _, want := range []string{"fanout.redisURL", "fanout.streamPrefix", "fanout.maxLen", "fanout.pollInterval"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
}

func TestServerSettings(t *testing.T) {
	c := Serve()
	c.Tenant, c.Auth.HS256Secret = "acme", strings.Repeat("s", 32)
	if got := c.Server.WithDefaults(); got.ReadTimeout.Duration == 0 || got.MaxConnections == 0 || got.MaxHeaderBytes == 0 {
		t.Fatalf("defaults not filled: %+v", got)
	}
	c.Server = ServerConfig{ReadTimeout: Duration{-1}, MaxHeaderBytes: 10, MaxConnections: -1}
	err := c.Validate(false)
	for _, want := range []string{"server.readTimeout", "server.maxHeaderBytes", "server.maxConnections"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
}

func TestCORSOrigins(t *testing.T) {
	c := Dev()
	c.CORS.AllowedOrigins = []string{"*", "https://app.example.com", "http://localhost:*", "http://[::1]:8080"}
	if err := c.Validate(true); err != nil {
		t.Fatalf("valid origins refused: %v", err)
	}
	c.CORS.AllowedOrigins = []string{"app.example.com", "https://x.example/path", "ftp://x"}
	err := c.Validate(true)
	for _, bad := range c.CORS.AllowedOrigins {
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("origin %q not refused: %v", bad, err)
		}
	}
}

func TestTLSAndAdminSettings(t *testing.T) {
	c := Dev()
	c.TLS = TLSConfig{CertFile: "cert.pem"}
	c.Admin.Listen = c.Listen
	err := c.Validate(true)
	for _, want := range []string{"tls:", "admin.listen"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
}
