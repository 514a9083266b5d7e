package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/compact"
)

// TestCompactCommandPrintsASummary: lattice compact takes serve's configuration
// and its own flags, and prints the run's summary as JSON on stdout.
func TestCompactCommandPrintsASummary(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "lattice.yaml")
	body := "tenant: acme\ndataDir: " + filepath.Join(dir, "data") + "\nauth: {hs256Secret: " + strings.Repeat("k", 32) +
		"}\ncollections: {orders: {}, parts: {}}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if err := runCompact([]string{"--config", cfg, "--dry-run", "--max-docs-per-second", "0"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var s compact.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil || !s.DryRun || s.DocumentsScanned != 0 {
		t.Fatalf("summary %q: %+v, %v", out.String(), s, err)
	}
	if err := runCompact([]string{"--config", cfg, "--no-such-flag"}, &out, &errOut); err == nil {
		t.Fatal("an unknown flag was accepted")
	}
}
