package fanout

import (
	"context"
	"sync"
	"time"
)

// HubConfig configures a Hub. Zero values take the defaults named.
type HubConfig struct {
	// Bus brings the events (required).
	Bus Bus
	// Head, when set, reads how far this node's feed of a collection reaches. An
	// event from another node wakes streams only once Head reaches its Seq: a node
	// writing alone makes its writes visible to other nodes a little after it
	// publishes (docs/change-feed.md), and a stream woken too early would read
	// nothing and sleep until the next event.
	Head func(ctx context.Context, collection string) (uint64, error)
	// PollInterval is how often every stream re-reads the store while the bus
	// reports itself unhealthy (default 1s).
	PollInterval time.Duration
	// SettleTimeout bounds how long an event waits for Head before its streams
	// are woken anyway (default 15s, longer than the store's allocation lease).
	SettleTimeout time.Duration
}

// Hub wakes the live streams of one node when their collections change. A wake-up
// is coalesced: a subscription has room for one pending signal, so a slow stream
// never slows the hub or other streams; it just reads everything new when it gets to
// it.
type Hub struct {
	cfg    HubConfig
	ctx    context.Context
	mu     sync.Mutex
	subs   map[string]map[*Subscription]struct{} // collection -> subscriptions
	last   map[string]Event                      // collection -> its latest event (by At)
	settle map[string]uint64                     // collection -> Seq a settle watcher waits for
}

// NewHub returns a hub fed by cfg.Bus until ctx ends.
func NewHub(ctx context.Context, cfg HubConfig) (*Hub, error) {
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.SettleTimeout <= 0 {
		cfg.SettleTimeout = 15 * time.Second
	}
	h := &Hub{cfg: cfg, ctx: ctx, subs: map[string]map[*Subscription]struct{}{}, last: map[string]Event{},
		settle: map[string]uint64{}}
	if err := cfg.Bus.Subscribe(ctx, h.deliver); err != nil {
		return nil, err
	}
	if hr, ok := cfg.Bus.(HealthReporter); ok {
		go h.pollWhileUnhealthy(hr)
	}
	return h, nil
}

// Subscription is one stream's interest in some collections.
type Subscription struct {
	// C receives a value when a watched collection may have changed.
	C           <-chan struct{}
	c           chan struct{}
	collections []string
}

// Subscribe starts waking a subscription for collections; call Unsubscribe when done.
func (h *Hub) Subscribe(collections []string) *Subscription {
	c := make(chan struct{}, 1)
	s := &Subscription{C: c, c: c, collections: collections}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range collections {
		if h.subs[name] == nil {
			h.subs[name] = map[*Subscription]struct{}{}
		}
		h.subs[name][s] = struct{}{}
	}
	return s
}

// Unsubscribe stops waking s.
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range s.collections {
		delete(h.subs[name], s)
		if len(h.subs[name]) == 0 {
			delete(h.subs, name)
		}
	}
}

// Connections returns the number of live subscriptions (for metrics).
func (h *Hub) Connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[*Subscription]struct{}{}
	for _, subs := range h.subs {
		for s := range subs {
			seen[s] = struct{}{}
		}
	}
	return len(seen)
}

// LastEvent returns when the latest event of collection was published (Unix ms, 0
// if none) and its TraceParent, so a delivery can measure its lag and join the
// trace of the push that caused it.
func (h *Hub) LastEvent(collection string) (at int64, traceParent string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.last[collection]
	return e.At, e.TraceParent
}

func (h *Hub) deliver(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.Resync {
		h.wakeAllLocked()
		return
	}
	if e.At > h.last[e.Collection].At {
		h.last[e.Collection] = Event{At: e.At, TraceParent: e.TraceParent}
	}
	if e.Local || h.cfg.Head == nil {
		h.wakeLocked(e.Collection)
		return
	}
	h.settleLocked(e.Collection, e.Seq)
}

// wakeLocked signals every subscription of collection.
func (h *Hub) wakeLocked(collection string) {
	for s := range h.subs[collection] {
		s.wake()
	}
}

// wakeAllLocked signals every subscription.
func (h *Hub) wakeAllLocked() {
	for _, subs := range h.subs {
		for s := range subs {
			s.wake()
		}
	}
}

func (s *Subscription) wake() {
	select {
	case s.c <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// pollWhileUnhealthy wakes every stream each PollInterval while the bus is
// unhealthy, so streams keep delivering (from the store) without events.
func (h *Hub) pollWhileUnhealthy(hr HealthReporter) {
	t := time.NewTicker(h.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		if hr.Health() != nil {
			h.mu.Lock()
			h.wakeAllLocked()
			h.mu.Unlock()
		}
	}
}
