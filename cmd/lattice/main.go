// Command lattice runs a Lattice sync node.
//
//	lattice dev    single node: embedded store in ./data, no auth, 127.0.0.1:8080
//	lattice serve  production node: MongoDB (or the embedded store), JWT auth
//	lattice operator  the Kubernetes operator that runs one sync cluster per SyncCluster
//	lattice compact   reclaim merge metadata every live client is past (docs/compaction.md)
//	lattice token     mint an HS256 JWT;  lattice version  print the build
//
// Configuration comes from a YAML file (--config or LATTICE_CONFIG), environment
// variables (LATTICE_*) and flags, flags winning. Run `lattice <command> -h` for flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/config"
	"github.com/lattice-sync/lattice/syncnode/telemetry"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "lattice:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	if len(args) == 0 {
		return usage(stderr)
	}
	switch args[0] {
	case "dev":
		return runNode(args[1:], config.Dev(), true, stderr)
	case "serve":
		return runNode(args[1:], config.Serve(), false, stderr)
	case "token":
		return runToken(args[1:], os.Stdout, stderr)
	case "operator":
		return runOperator(args[1:], stderr)
	case "compact":
		return runCompact(args[1:], os.Stdout, stderr)
	case "version":
		return runVersion(args[1:], os.Stdout)
	case "help", "-h", "--help":
		return usage(stderr)
	}
	_ = usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) error {
	fmt.Fprintln(w, `usage: lattice <command> [flags]

commands:
  dev       run a single node: embedded store (./data), no auth, 127.0.0.1:8080
  serve     run a production node (MongoDB or embedded store, JWT auth)
  token     mint an HS256 JWT for development and the local cluster
  operator  run the Kubernetes operator (SyncCluster resources)
  compact   reclaim merge metadata every live client is past (same config as serve)
  version   print the version, commit and build date`)
	return nil
}

func runNode(args []string, cfg config.Config, dev bool, stderr io.Writer) error {
	cfg, err := loadConfig(args, cfg, stderr)
	if err != nil {
		return err
	}
	if err := cfg.Validate(dev); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	logger := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(stderr, nil)})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dev {
		warnIfExposed(cfg.Listen, logger)
	}
	tel, err := telemetry.Setup(ctx, cfg.Tenant)
	if err != nil {
		return err
	}
	defer func() { _ = tel.Shutdown(context.Background()) }()
	authn, err := authenticator(ctx, cfg, logger)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	bus, err := openBus(cfg, logger)
	if err != nil {
		return errors.Join(err, st.Close(context.Background()))
	}
	defer bus.Close()
	deps := syncnode.Deps{Store: st, Bus: bus, Auth: authn, Logger: logger, Telemetry: tel}
	node, err := syncnode.New(ctx, cfg, deps)
	if err == nil {
		err = node.Listen()
	}
	if err != nil {
		return errors.Join(err, st.Close(context.Background()))
	}
	return node.Serve(ctx, 25*time.Second)
}

// warnIfExposed warns loudly when lattice dev, which has no authentication,
// listens beyond the loopback.
func warnIfExposed(listen string, logger *slog.Logger) {
	host, _, err := net.SplitHostPort(listen)
	if ip := net.ParseIP(host); err == nil && (host == "localhost" || (ip != nil && ip.IsLoopback())) {
		return
	}
	logger.Warn("LATTICE DEV LISTENS BEYOND THE LOOPBACK (" + listen + "): it has no authentication; anyone who can reach this address may read and write every collection. Use lattice serve for anything but local development.")
}

// openBus returns the Redis Streams bus when fanout.redisURL is set, else the
// in-memory bus of a single node.
func openBus(cfg config.Config, logger *slog.Logger) (fanout.Bus, error) {
	f := cfg.Fanout
	if f.RedisURL == "" {
		return fanout.NewMemoryBus(), nil
	}
	bus, err := fanout.NewRedisBus(fanout.RedisConfig{URL: f.RedisURL, Tenant: cfg.Tenant, Prefix: f.StreamPrefix,
		MaxLen: f.MaxLen, Logger: logger})
	if err != nil {
		return nil, err
	}
	logger.Info("fanout: Redis Streams", "stream", bus.Key())
	return bus, nil
}

func authenticator(ctx context.Context, cfg config.Config, logger *slog.Logger) (auth.Authenticator, error) {
	if cfg.Auth.Mode == "none" {
		logger.Warn("AUTH IS OFF: every request may read and write every collection (auth mode none, for `lattice dev` only)")
		return auth.None{}, nil
	}
	a := cfg.Auth
	jc := auth.JWTConfig{Tenant: cfg.Tenant, HS256Secret: []byte(a.HS256Secret), JWKSURL: a.JWKSURL,
		Audience: a.Audience, Issuer: a.Issuer, MaxLifetime: a.MaxTokenLifetime.Duration}
	if strings.HasPrefix(a.JWKSURL, "http://") {
		logger.Warn("auth.jwksURL is plain http: anyone on the path can swap the keys that verify tokens; use https")
	}
	if cfg.Auth.PublicKeyFile != "" {
		pemBytes, err := auth.ReadPEMFile(cfg.Auth.PublicKeyFile)
		if err != nil {
			return nil, err
		}
		jc.PublicKeyPEM = pemBytes
	}
	return auth.NewJWT(ctx, jc) // ctx also bounds the JWKS refresh

}

// loadConfig applies the config file, then LATTICE_* variables, then flags; extra
// registers a command's own flags beside the configuration's.
func loadConfig(args []string, cfg config.Config, stderr io.Writer, extra ...func(*flag.FlagSet)) (config.Config, error) {
	fs := flag.NewFlagSet("lattice", flag.ContinueOnError)
	fs.SetOutput(stderr)
	for _, f := range extra {
		f(fs)
	}
	file := fs.String("config", os.Getenv("LATTICE_CONFIG"), "YAML configuration file (env LATTICE_CONFIG)")
	listen := fs.String("listen", "", "listen address (env LATTICE_LISTEN)")
	dataDir := fs.String("data-dir", "", "directory of the embedded store (env LATTICE_DATA_DIR)")
	tenant := fs.String("tenant", "", "tenant served by this node (env LATTICE_TENANT)")
	mongoURI := fs.String("mongodb-uri", "", "MongoDB connection string; selects the mongodb store (env LATTICE_MONGODB_URI)")
	redisURL := fs.String("redis-url", "", "Redis URL; selects the Redis Streams fanout between nodes (env LATTICE_REDIS_URL)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *file != "" {
		if err := cfg.LoadFile(*file); err != nil {
			return cfg, err
		}
	}
	set := func(dst *string, env, flagValue string) {
		if v := os.Getenv(env); v != "" {
			*dst = v
		}
		if flagValue != "" {
			*dst = flagValue
		}
	}
	set(&cfg.Listen, "LATTICE_LISTEN", *listen)
	set(&cfg.DataDir, "LATTICE_DATA_DIR", *dataDir)
	set(&cfg.Tenant, "LATTICE_TENANT", *tenant)
	set(&cfg.Store.MongoURI, "LATTICE_MONGODB_URI", *mongoURI)
	set(&cfg.Auth.HS256Secret, "LATTICE_AUTH_HS256_SECRET", "")
	set(&cfg.Store.Database, "LATTICE_MONGODB_DATABASE", "")
	set(&cfg.Fanout.RedisURL, "LATTICE_REDIS_URL", *redisURL)
	if cfg.Store.MongoURI != "" {
		cfg.Store.Kind = "mongodb"
	}
	return cfg, nil
}
