package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/lattice-sync/lattice/syncnode/compact"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
)

// compactFlags are lattice compact's own flags.
type compactFlags struct {
	dryRun      bool
	docsPerSec  float64
	collections string
}

// runCompact compacts the tenant's collections (docs/compaction.md) with the
// configuration of lattice serve, and prints the summary as JSON on stdout.
func runCompact(args []string, stdout, stderr io.Writer) error {
	var f compactFlags
	cfg, err := loadConfig(args, config.Serve(), stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&f.dryRun, "dry-run", false, "measure what would be reclaimed; write nothing")
		fs.Float64Var(&f.docsPerSec, "max-docs-per-second", 500, "documents read per second at most (0: no bound)")
		fs.StringVar(&f.collections, "collections", "", "comma-separated collections (default: every declared one)")
	})
	if err != nil {
		return err
	}
	if err := cfg.Validate(false); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(stderr, nil)})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() { _ = st.Close(context.Background()) }()
	opts := compact.Options{Store: st, Collections: compactCollections(cfg, f.collections), Retention: cfg.Retention.Duration,
		DryRun: f.dryRun, MaxDocsPerSecond: f.docsPerSec, Progress: progressReporter(logger, stderr)}
	summary, err := compact.Run(ctx, opts)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(summary)
}

// compactCollections is the --collections list, or every declared collection.
func compactCollections(cfg config.Config, flagValue string) []string {
	var out []string
	if flagValue != "" {
		for _, c := range strings.Split(flagValue, ",") {
			if c = strings.TrimSpace(c); c != "" {
				out = append(out, c)
			}
		}
		return out
	}
	for name := range cfg.Collections {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// progressReporter logs a progress line per page, and on a terminal also redraws
// one status line.
func progressReporter(logger *slog.Logger, stderr io.Writer) func(compact.Progress) {
	terminal := false
	if f, ok := stderr.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	return func(p compact.Progress) {
		s := p.Summary
		if terminal {
			fmt.Fprintf(stderr, "\r%s: %d scanned, %d rewritten, %d clients folded, %d → %d bytes", p.Collection,
				s.DocumentsScanned, s.DocumentsRewritten, s.ClientsFolded, s.BytesBefore, s.BytesAfter)
			return
		}
		logger.Info("compact: progress", "collection", p.Collection, "scanned", s.DocumentsScanned,
			"rewritten", s.DocumentsRewritten, "clientsFolded", s.ClientsFolded, "bytesBefore", s.BytesBefore, "bytesAfter", s.BytesAfter)
	}
}
