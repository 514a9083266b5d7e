package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/config"
)

func TestFlagsBeatEnvironmentBeatFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("listen: 0.0.0.0:1\ntenant: from-file\ndataDir: /file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LATTICE_TENANT", "from-env")
	t.Setenv("LATTICE_DATA_DIR", "/env")
	cfg, err := loadConfig([]string{"--config", file, "--data-dir", "/flag"}, config.Dev(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:1" || cfg.Tenant != "from-env" || cfg.DataDir != "/flag" {
		t.Fatalf("got listen=%s tenant=%s dataDir=%s", cfg.Listen, cfg.Tenant, cfg.DataDir)
	}
	t.Setenv("LATTICE_MONGODB_URI", "mongodb://db")
	if cfg, _ = loadConfig(nil, config.Serve(), io.Discard); cfg.Store.Kind != "mongodb" {
		t.Fatalf("a MongoDB URI does not select the mongodb store: %+v", cfg.Store)
	}
}

func TestRunRefusesBadStarts(t *testing.T) {
	for _, args := range [][]string{{"serve"}, {"dev", "--listen"}, {"dev", "extra"}, {"frobnicate"}} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("lattice %s started", strings.Join(args, " "))
		}
	}
}
