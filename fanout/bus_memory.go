package fanout

import (
	"context"
	"sync"
)

// MemoryBus is the Bus of a single node: publishing calls every subscriber's handler
// directly.
type MemoryBus struct {
	mu   sync.RWMutex
	next int
	subs map[int]func(Event)
}

// NewMemoryBus returns an empty in-memory bus.
func NewMemoryBus() *MemoryBus { return &MemoryBus{subs: map[int]func(Event){}} }

// Publish implements Bus.
func (b *MemoryBus) Publish(_ context.Context, e Event) error {
	e.Local = true
	b.deliver(e)
	return nil
}

// deliver calls every handler with e.
func (b *MemoryBus) deliver(e Event) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, h := range b.subs {
		h(e)
	}
}

// Subscribe implements Bus.
func (b *MemoryBus) Subscribe(ctx context.Context, handle func(Event)) error {
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = handle
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	})
	return nil
}

// Close implements Bus.
func (b *MemoryBus) Close() error {
	b.mu.Lock()
	b.subs = map[int]func(Event){}
	b.mu.Unlock()
	return nil
}
