package fanout

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestHubWakesOnlyWatchers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := NewMemoryBus()
	hub, err := NewHub(ctx, HubConfig{Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	orders := hub.Subscribe([]string{"orders"})
	both := hub.Subscribe([]string{"orders", "parts"})
	if hub.Connections() != 2 {
		t.Fatalf("connections = %d", hub.Connections())
	}
	for i := 0; i < 5; i++ { // coalesced: never blocks however many events come
		_ = bus.Publish(ctx, Event{Collection: "parts", Seq: uint64(i)})
	}
	select {
	case <-orders.C:
		t.Fatal("orders woken by parts")
	default:
	}
	select {
	case <-both.C:
	default:
		t.Fatal("parts watcher not woken")
	}
	hub.Unsubscribe(orders)
	hub.Unsubscribe(both)
	if hub.Connections() != 0 {
		t.Fatalf("connections after unsubscribe = %d", hub.Connections())
	}
}

func TestMemoryBusStopsDeliveringAfterCancel(t *testing.T) {
	bus := NewMemoryBus()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan Event, 10)
	_ = bus.Subscribe(ctx, func(e Event) { got <- e })
	_ = bus.Publish(context.Background(), Event{Collection: "a"})
	cancel()
	for subscribed := true; subscribed; { // context.AfterFunc unsubscribes asynchronously
		bus.mu.RLock()
		subscribed = len(bus.subs) > 0
		bus.mu.RUnlock()
		runtime.Gosched()
	}
	_ = bus.Publish(context.Background(), Event{Collection: "a"})
	if len(got) != 1 {
		t.Fatalf("delivered %d events, want 1", len(got))
	}
}

func TestHubWakesForAnotherNodesEventOnlyOnceTheFeedReachesIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var head atomic.Uint64
	bus := NewMemoryBus()
	hub, err := NewHub(ctx, HubConfig{Bus: bus, Head: func(context.Context, string) (uint64, error) { return head.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	sub := hub.Subscribe([]string{"orders"})
	defer hub.Unsubscribe(sub)
	head.Store(4)
	bus.deliver(Event{Collection: "orders", Seq: 5}) // from another node, not yet readable here
	select {
	case <-sub.C:
		t.Fatal("woken before the feed reached the event")
	case <-time.After(30 * time.Millisecond):
	}
	head.Store(5)
	select {
	case <-sub.C:
	case <-time.After(5 * time.Second):
		t.Fatal("not woken after the feed reached the event")
	}
	_ = bus.Publish(ctx, Event{Collection: "orders", Seq: 9}) // this node's own: at once
	select {
	case <-sub.C:
	default:
		t.Fatal("own event did not wake at once")
	}
}

// sickBus is a memory bus that reports itself unhealthy.
type sickBus struct{ *MemoryBus }

func (sickBus) Health() error { return errors.New("redis down") }

func TestHubPollsWhileTheBusIsUnhealthy(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub, err := NewHub(ctx, HubConfig{Bus: sickBus{NewMemoryBus()}, PollInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sub := hub.Subscribe([]string{"orders"})
	for range 3 {
		select {
		case <-sub.C:
		case <-time.After(5 * time.Second):
			t.Fatal("no poll wake-up while the bus is unhealthy")
		}
	}
}

func TestHubResyncWakesEveryStream(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := NewMemoryBus()
	hub, _ := NewHub(ctx, HubConfig{Bus: bus})
	a, b := hub.Subscribe([]string{"orders"}), hub.Subscribe([]string{"parts"})
	bus.deliver(Event{Resync: true})
	for _, s := range []*Subscription{a, b} {
		select {
		case <-s.C:
		default:
			t.Fatal("resync did not wake a stream")
		}
	}
}
