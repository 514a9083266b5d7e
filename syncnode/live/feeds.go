package live

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// Config configures Feeds. Zero values take the defaults named.
type Config struct {
	// Store serves the change feeds (required).
	Store store.Store
	// Hub wakes a collection's tail when the collection may have changed (required).
	Hub *fanout.Hub
	// PageLimit bounds the records of one page (default 1000).
	PageLimit int
	// PageBytes bounds the documents of one page (default 8 MiB; a page always
	// holds at least one document).
	PageBytes int
	// RingPages is how many recent pages a tail keeps for streams that join a
	// little behind it (default 64).
	RingPages int
	// QueuePages bounds each stream's queue of pages not yet sent; a stream
	// whose queue is full is cut (default 256).
	QueuePages int
	// IdleAfter is how long a tail with no stream keeps running (default 30s).
	IdleAfter time.Duration
	// Logger receives feed read errors (default slog.Default()).
	Logger *slog.Logger
	// OnPage, when set, is told of every page with records a tail hands out and
	// to how many streams (for traces and metrics).
	OnPage func(p *Page, streams int)
}

// Feeds is one node's set of tails, one per collection some stream follows.
type Feeds struct {
	cfg   Config
	ctx   context.Context
	mu    sync.Mutex
	tails map[string]*tail
	// cuts counts streams cut for falling behind.
	cuts atomic.Int64
}

// New returns the node's feeds; every tail stops when ctx ends.
func New(ctx context.Context, cfg Config) *Feeds {
	if cfg.PageLimit <= 0 {
		cfg.PageLimit = 1000
	}
	if cfg.PageBytes <= 0 {
		cfg.PageBytes = 8 << 20
	}
	if cfg.RingPages <= 0 {
		cfg.RingPages = 64
	}
	if cfg.QueuePages <= 0 {
		cfg.QueuePages = 256
	}
	if cfg.IdleAfter <= 0 {
		cfg.IdleAfter = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Feeds{cfg: cfg, ctx: ctx, tails: map[string]*tail{}}
}

// Cuts returns how many streams were cut for falling behind.
func (f *Feeds) Cuts() int64 { return f.cuts.Load() }

// Queued returns the pages waiting in every stream's queue.
func (f *Feeds) Queued() int {
	f.mu.Lock()
	tails := make([]*tail, 0, len(f.tails))
	for _, t := range f.tails {
		tails = append(tails, t)
	}
	f.mu.Unlock()
	seen := map[*Follower]struct{}{}
	n := 0
	for _, t := range tails {
		for _, fl := range t.snapshot() {
			if _, ok := seen[fl]; !ok {
				seen[fl] = struct{}{}
				n += fl.Queued()
			}
		}
	}
	return n
}

// tailFor returns collection's running tail, starting one at cursor if none runs.
func (f *Feeds) tailFor(collection string, cursor uint64) *tail {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t, ok := f.tails[collection]; ok {
		return t
	}
	t := &tail{feeds: f, coll: collection, pos: cursor, followers: map[*Follower]struct{}{}}
	f.tails[collection] = t
	sub := f.cfg.Hub.Subscribe([]string{collection}) // before the first read: no wake-up is missed
	go t.run(sub)
	return t
}

// retire removes t if it still has no follower; false if one joined meanwhile.
func (f *Feeds) retire(t *tail) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.followers) > 0 {
		return false
	}
	t.closed = true
	if f.tails[t.coll] == t {
		delete(f.tails, t.coll)
	}
	return true
}
