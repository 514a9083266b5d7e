package fanout

import (
	"context"
	"sync"
)

// Hub wakes the live streams of one node when their collections change. A wake-up
// is coalesced: a subscription has room for one pending signal, so a slow stream
// never slows the hub or other streams; it just reads everything new when it gets to
// it.
type Hub struct {
	mu     sync.Mutex
	subs   map[string]map[*Subscription]struct{} // collection -> subscriptions
	lastAt map[string]int64                      // collection -> At of its latest event
}

// NewHub returns a hub fed by bus until ctx ends.
func NewHub(ctx context.Context, bus Bus) (*Hub, error) {
	h := &Hub{subs: map[string]map[*Subscription]struct{}{}, lastAt: map[string]int64{}}
	if err := bus.Subscribe(ctx, h.deliver); err != nil {
		return nil, err
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

// LastEventAt returns the At of the latest event of collection (0 if none).
func (h *Hub) LastEventAt(collection string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastAt[collection]
}

func (h *Hub) deliver(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.At > h.lastAt[e.Collection] {
		h.lastAt[e.Collection] = e.At
	}
	for s := range h.subs[e.Collection] {
		select {
		case s.c <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}
