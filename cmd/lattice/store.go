package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/embedded"
	"github.com/lattice-sync/lattice/syncnode/store/mongostore"
)

// openStore opens the configured store.
func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
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
	wc, err := writeConcern(cfg.Store.WriteConcern)
	if err != nil {
		return nil, err
	}
	db := cfg.Store.Database
	if db == "" {
		db = "lattice_" + strings.ReplaceAll(cfg.Tenant, "-", "_")
	}
	st, err := mongostore.Open(ctx, mongostore.Config{URI: cfg.Store.MongoURI, Database: db, WriteConcern: wc})
	if err != nil {
		return nil, fmt.Errorf("open mongodb store: %w", err)
	}
	return st, nil
}

// writeConcern parses store.writeConcern: "majority" (the default) or a node count.
func writeConcern(s string) (*writeconcern.WriteConcern, error) {
	if s == "" || s == "majority" {
		return writeconcern.Majority(), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return nil, errors.New("store.writeConcern: want majority or a positive number of nodes")
	}
	return &writeconcern.WriteConcern{W: n}, nil
}
