package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/embedded"
)

// openStore opens the configured store.
func openStore(_ context.Context, cfg config.Config) (store.Store, error) {
	switch cfg.Store.Kind {
	case "embedded":
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		st, err := embedded.Open(filepath.Join(cfg.DataDir, "lattice.db"))
		if err != nil {
			return nil, fmt.Errorf("open embedded store in %s: %w", cfg.DataDir, err)
		}
		return st, nil
	}
	return nil, errors.New("the mongodb store is not wired in yet")
}
