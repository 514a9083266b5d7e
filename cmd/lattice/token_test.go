package main

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/auth"
)

const testSecret = "token-test-secret-0123456789abcdef"

func writeSecret(t *testing.T, secret string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// authenticate checks tok with the authenticator lattice serve uses.
func authenticate(t *testing.T, tok, tenant string) auth.Principal {
	t.Helper()
	a, err := auth.NewJWT(context.Background(), auth.JWTConfig{Tenant: tenant, HS256Secret: []byte(testSecret)})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/v1/stream", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	p, err := a.Authenticate(r)
	if err != nil {
		t.Fatalf("the minted token is refused: %v", err)
	}
	return p
}

func TestTokenIsAcceptedByTheNode(t *testing.T) {
	t.Setenv("LATTICE_AUTH_HS256_SECRET", "")
	var out bytes.Buffer
	args := []string{"--secret-file", writeSecret(t, testSecret), "--tenant", "acme", "--scope", "read:orders  write:orders"}
	if err := runWith(args, &out); err != nil {
		t.Fatal(err)
	}
	tok, ok := strings.CutSuffix(out.String(), "\n")
	if !ok || strings.ContainsAny(tok, " \n") {
		t.Fatalf("output is not one token and a newline: %q", out.String())
	}
	p := authenticate(t, tok, "acme")
	if p.Subject != "dev" || p.Tenant != "acme" || !slices.Equal(p.Scopes, []string{"read:orders", "write:orders"}) {
		t.Fatalf("principal = %+v", p)
	}
}

func TestTokenSecretFromEnvironment(t *testing.T) {
	t.Setenv("LATTICE_AUTH_HS256_SECRET", testSecret)
	var out bytes.Buffer
	if err := runWith([]string{"--tenant", "local", "--sub", "me", "--ttl", "5m"}, &out); err != nil {
		t.Fatal(err)
	}
	p := authenticate(t, strings.TrimSpace(out.String()), "local")
	if p.Subject != "me" || !slices.Equal(p.Scopes, []string{"*"}) {
		t.Fatalf("principal = %+v", p)
	}
}

func TestTokenErrors(t *testing.T) {
	t.Setenv("LATTICE_AUTH_HS256_SECRET", "")
	good := writeSecret(t, testSecret)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tenant", "a"}, "no HS256 secret"},
		{[]string{"--tenant", "a", "--secret-file", writeSecret(t, "short")}, "at least 32"},
		{[]string{"--tenant", "a", "--secret-file", filepath.Join(t.TempDir(), "missing")}, "read the secret"},
		{[]string{"--secret-file", good}, "--tenant is required"},
		{[]string{"--tenant", "a", "--secret-file", good, "--ttl", "soon"}, "invalid value"},
		{[]string{"--tenant", "a", "--secret-file", good, "--ttl", "-1h"}, "must be positive"},
		{[]string{"--tenant", "a", "--secret-file", good, "extra"}, "unexpected arguments"},
	} {
		var out bytes.Buffer
		err := runWith(c.args, &out)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("lattice token %s: error %v, want one containing %q", strings.Join(c.args, " "), err, c.want)
		}
		if out.Len() != 0 {
			t.Errorf("lattice token %s printed %q", strings.Join(c.args, " "), out.String())
		}
	}
}

// runWith runs `lattice token <args>` with stdout captured in out.
func runWith(args []string, out *bytes.Buffer) error {
	return runToken(args, out, io.Discard)
}

func TestRunDispatchesToken(t *testing.T) {
	if err := run([]string{"token"}, io.Discard); err == nil || !strings.Contains(err.Error(), "--tenant is required") {
		t.Fatalf("lattice token without flags: %v", err)
	}
}
