package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/lattice-sync/lattice/syncnode/store/ferrettest/wireproxy"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ferretdb:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	listen, dir string
	log         bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("ferretdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:27017", "address the proxy listens on (MongoDB wire protocol)")
	fs.StringVar(&o.dir, "dir", "", "directory of FerretDB's SQLite files (required; created if missing)")
	fs.BoolVar(&o.log, "log", false, "write FerretDB's log to stderr")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.dir == "" {
		return o, errors.New("-dir is required")
	}
	return o, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	f, err := newFerret(o, stderr)
	if err != nil {
		return err
	}
	ferretCtx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ferretCtx) }()
	defer func() { cancel(); <-done }()
	p, err := startProxy(f, o.listen, done)
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Fprintf(stdout, "ready mongodb://%s/\n", p.Addr())
	select {
	case <-ctx.Done():
		return nil
	case err := <-done:
		done <- err // for the deferred wait
		return fmt.Errorf("FerretDB stopped unexpectedly: %v", err)
	}
}

// newFerret creates FerretDB on a loopback port with its data in o.dir.
func newFerret(o options, stderr io.Writer) (*ferretdb.FerretDB, error) {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// DiscardHandler, not a text handler on io.Discard: FerretDB derives a logger per
	// request, and formatting those attributes costs real CPU.
	logger := slog.New(slog.DiscardHandler)
	if o.log {
		logger = slog.New(slog.NewTextHandler(stderr, nil))
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + o.dir + "/",
		Logger:    logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start FerretDB in %s: %w", o.dir, err)
	}
	return f, nil
}

// startProxy waits for FerretDB's address (unless it stops first: done), starts the
// proxy on listen in front of it and checks that the proxy accepts connections.
func startProxy(f *ferretdb.FerretDB, listen string, done chan error) (*wireproxy.Proxy, error) {
	uri := make(chan string, 1)
	go func() { uri <- f.MongoDBURI() }()
	var target string
	select {
	case s := <-uri:
		target = s
	case err := <-done:
		done <- err
		return nil, fmt.Errorf("FerretDB stopped before listening: %v", err)
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("FerretDB URI %q: %w", target, err)
	}
	p, err := wireproxy.Start(listen, u.Host)
	if err != nil {
		return nil, err
	}
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("proxy on %s does not accept connections: %w", p.Addr(), err)
	}
	_ = c.Close()
	return p, nil
}
