package fanout

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultStreamPrefix starts the key of a tenant's stream unless configured.
const DefaultStreamPrefix = "lattice:events:"

// RedisConfig configures a RedisBus. Zero values take the defaults named.
type RedisConfig struct {
	// URL is the Redis URL: redis://[user:password@]host:port/db (rediss:// for TLS).
	URL string
	// Tenant names the tenant whose nodes share one stream.
	Tenant string
	// Prefix starts the stream's key, which is Prefix+Tenant (default "lattice:events:").
	Prefix string
	// MaxLen bounds the stream's length, trimmed approximately (default 10000).
	MaxLen int64
	// Block is how long one XREAD waits for new entries (default 5s).
	Block time.Duration
	// MinBackoff and MaxBackoff bound the wait before retrying after a Redis error
	// (defaults 100ms and 5s; the wait doubles on each failure).
	MinBackoff, MaxBackoff time.Duration
	// QueueSize bounds the events waiting to be written to Redis (default 4096).
	// Past it events are dropped, and a resync event follows once Redis answers.
	QueueSize int
	// Logger receives connection errors and recoveries (default slog.Default()).
	Logger *slog.Logger
}

func (c *RedisConfig) fillDefaults() {
	if c.Prefix == "" {
		c.Prefix = DefaultStreamPrefix
	}
	if c.MaxLen <= 0 {
		c.MaxLen = 10000
	}
	if c.Block <= 0 {
		c.Block = 5 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(5*time.Second, c.MinBackoff)
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// RedisBus is the Bus of a cluster: one Redis stream per tenant. Publish hands the
// event to this node's subscribers at once and queues it for XADD (approximate
// MAXLEN); one reader per node follows the stream with XREAD BLOCK from its own
// last id (every node needs every event, so no consumer group) and hands other
// nodes' events to the subscribers. Whenever events may have been missed (the
// reader reconnected, the stream was trimmed past it, a publish was dropped), the
// subscribers get a Resync event, on every node, and catch up from the store.
type RedisBus struct {
	cfg    RedisConfig
	key    string
	origin string
	writer *redis.Client
	reader *redis.Client
	local  *MemoryBus
	queue  chan Event
	// connects counts the reader's connections (OnConnect); the reader repositions
	// and resyncs whenever it changes.
	connects atomic.Int64
	// lost is set when an event could not be written; a resync event is owed.
	lost   atomic.Bool
	health health
	stats  RedisStats
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewRedisBus connects to Redis and starts the bus's reader and writer, which run
// until Close. Redis need not be up yet: the bus reports itself unhealthy and keeps
// retrying.
func NewRedisBus(cfg RedisConfig) (*RedisBus, error) {
	b, err := newRedisBus(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(2)
	go func() { defer b.wg.Done(); b.readLoop(ctx) }()
	go func() { defer b.wg.Done(); b.writeLoop(ctx) }()
	return b, nil
}

// newRedisBus returns a bus whose reader and writer are not started yet.
func newRedisBus(cfg RedisConfig) (*RedisBus, error) {
	cfg.fillDefaults()
	redis.SetLogger(debugLogger{cfg.Logger})
	if cfg.Tenant == "" {
		return nil, errors.New("redis bus: the tenant is required")
	}
	opts, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redis bus: fanout.redisURL: %w", err)
	}
	b := &RedisBus{cfg: cfg, key: cfg.Prefix + cfg.Tenant, origin: newOrigin(), local: NewMemoryBus(),
		queue: make(chan Event, cfg.QueueSize)}
	b.writer = redis.NewClient(opts)
	readOpts := *opts
	readOpts.PoolSize, readOpts.MinIdleConns, readOpts.MaxRetries = 1, 0, -1
	readOpts.OnConnect = func(context.Context, *redis.Conn) error { b.connects.Add(1); return nil }
	b.reader = redis.NewClient(&readOpts)
	b.health.set(&b.health.read, errors.New("not connected to Redis yet"))
	b.cancel = func() {}
	return b, nil
}

// newOrigin returns a random id for this bus, so its reader skips its own events.
func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Key returns the Redis key of the tenant's stream.
func (b *RedisBus) Key() string { return b.key }

// Publish implements Bus: this node's subscribers get e at once; other nodes get
// it when the writer has added it to the stream.
func (b *RedisBus) Publish(ctx context.Context, e Event) error {
	e.Origin = b.origin
	b.local.Publish(ctx, e) //nolint:errcheck // MemoryBus.Publish never fails
	e.Local = false
	select {
	case b.queue <- e:
		return nil
	default:
		b.lost.Store(true)
		b.stats.Dropped.Add(1)
		return errors.New("redis bus: publish queue full; other nodes will resync")
	}
}

// Subscribe implements Bus.
func (b *RedisBus) Subscribe(ctx context.Context, handle func(Event)) error {
	return b.local.Subscribe(ctx, handle)
}

// Health implements HealthReporter: the last error of the reader or the writer,
// nil once both work.
func (b *RedisBus) Health() error { return b.health.err() }

// Stats returns the bus's counters.
func (b *RedisBus) Stats() *RedisStats { return &b.stats }

// QueueDepth returns the events waiting to be written to Redis.
func (b *RedisBus) QueueDepth() int { return len(b.queue) }

// Close stops the reader and the writer and closes the connections. Events still
// queued are dropped (other nodes catch up from the store).
func (b *RedisBus) Close() error {
	b.cancel()
	err := errors.Join(b.reader.Close(), b.writer.Close())
	b.wg.Wait()
	_ = b.local.Close()
	return err
}

// debugLogger sends go-redis's own log lines (one per failed dial while Redis is
// down) to the node's logger at debug level: the bus logs each outage once itself.
type debugLogger struct{ l *slog.Logger }

func (d debugLogger) Printf(ctx context.Context, format string, v ...any) {
	d.l.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// RedisStats counts what the bus did, for metrics.
type RedisStats struct {
	// Published counts events written to the stream; Received, other nodes' events read.
	Published, Received atomic.Int64
	// Dropped counts events not written (queue full or Redis failing).
	Dropped atomic.Int64
	// Errors counts failed Redis commands; Resyncs, resync events delivered here.
	Errors, Resyncs atomic.Int64
	// LagMillis is the age of the latest event read, when it was read.
	LagMillis atomic.Int64
}

// health keeps the last error of the reader and of the writer.
type health struct {
	mu          sync.Mutex
	read, write error
}

func (h *health) set(which *error, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	*which = err
}

func (h *health) err() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.read != nil:
		return fmt.Errorf("redis fanout: reading events: %w", h.read)
	case h.write != nil:
		return fmt.Errorf("redis fanout: publishing events: %w", h.write)
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// backoff doubles d within the configured bounds.
func (b *RedisBus) backoff(d time.Duration) time.Duration {
	return min(max(2*d, b.cfg.MinBackoff), b.cfg.MaxBackoff)
}
