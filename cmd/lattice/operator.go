package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/lattice-sync/lattice/operator"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
)

// defaultImage is the node image a SyncCluster runs unless it names one; release
// builds set it with -ldflags.
var defaultImage = "ghcr.io/lattice-sync/lattice:latest"

// runOperator runs the Kubernetes operator until SIGTERM.
func runOperator(args []string, stderr io.Writer) error {
	o, err := operatorOptions(args, stderr)
	if err != nil {
		return err
	}
	logger := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(stderr, nil)})
	ctrl.SetLogger(logr.FromSlogHandler(logger.Handler()))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tel, err := telemetry.Setup(ctx, "operator")
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("operator: kubeconfig: %w", err)
	}
	mgr, err := operator.NewManager(cfg, o)
	if err != nil {
		return err
	}
	logger.Info("operator starting", "namespaces", o.WatchNamespaces, "defaultImage", o.DefaultImage, "leaderElection", o.LeaderElection)
	return mgr.Start(ctx)
}

func operatorOptions(args []string, stderr io.Writer) (operator.Options, error) {
	fs := flag.NewFlagSet("lattice operator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := operator.Options{}
	fs.StringVar(&o.DefaultImage, "default-image", envOr("LATTICE_OPERATOR_DEFAULT_IMAGE", defaultImage), "image of SyncClusters that name none (env LATTICE_OPERATOR_DEFAULT_IMAGE)")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", ":8080", "address of the operator's /metrics (0: off)")
	fs.StringVar(&o.HealthAddr, "health-addr", ":8081", "address of /healthz and /readyz")
	fs.BoolVar(&o.LeaderElection, "leader-elect", true, "elect one active operator among replicas")
	fs.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the lease (default: the operator's own)")
	watch := fs.String("watch-namespaces", os.Getenv("LATTICE_WATCH_NAMESPACES"), "comma-separated namespaces to watch (default: all; env LATTICE_WATCH_NAMESPACES)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("operator: unexpected arguments: %v", fs.Args())
	}
	for _, ns := range strings.Split(*watch, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			o.WatchNamespaces = append(o.WatchNamespaces, ns)
		}
	}
	return o, nil
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
