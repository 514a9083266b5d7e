package fanout

import (
	"context"
	"runtime"
	"testing"
)

func TestHubWakesOnlyWatchers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := NewMemoryBus()
	hub, err := NewHub(ctx, bus)
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
