package storetest

import (
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// testClients: the registry keeps the latest last-seen time and the greatest
// acknowledgement per collection, and lists the clients seen since a time.
func testClients(t *testing.T, open Opener) {
	ctx := ctxFor(t)
	st := openStore(t, open)
	reg, ok := st.(store.Clients)
	if !ok {
		t.Skip("the store keeps no client registry")
	}
	t0 := time.UnixMilli(1_764_000_000_000)
	steps := []error{
		reg.Seen(ctx, "anna", t0), reg.Seen(ctx, "anna", t0.Add(-time.Hour)), // an older time does not win
		reg.Seen(ctx, "ben", t0.Add(-48*time.Hour)),
		reg.Acked(ctx, "anna", "orders", 7), reg.Acked(ctx, "anna", "orders", 5), reg.Acked(ctx, "anna", "parts", 2),
		reg.Acked(ctx, "ben", "orders", 3),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	got := map[string]store.ClientRecord{}
	if err := reg.ListClients(ctx, t0.Add(-24*time.Hour), func(r store.ClientRecord) error { got[r.ID] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	anna, ok := got["anna"]
	if len(got) != 1 || !ok || !anna.Seen.Equal(t0) || anna.Acked["orders"] != 7 || anna.Acked["parts"] != 2 {
		t.Fatalf("clients seen in the last day: %+v", got)
	}
	all := 0
	if err := reg.ListClients(ctx, time.Time{}, func(store.ClientRecord) error { all++; return nil }); err != nil || all != 2 {
		t.Fatalf("every client: %d, %v", all, err)
	}
}
