package compact

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/store/embedded"
)

func TestHorizonIsTheLeastAcknowledgementOfLiveClients(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close(ctx)
	now := time.UnixMilli(1_764_000_000_000)
	for _, step := range []error{
		st.Seen(ctx, "anna", now.Add(-time.Hour)), st.Acked(ctx, "anna", "orders", 40),
		st.Seen(ctx, "ben", now.Add(-2*time.Hour)), st.Acked(ctx, "ben", "orders", 25),
		st.Seen(ctx, "carl", now.Add(-time.Hour)), // never pulled orders from a checkpoint
		st.Seen(ctx, "retired", now.Add(-200*24*time.Hour)), st.Acked(ctx, "retired", "orders", 3),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	h, err := ComputeHorizon(ctx, st, "orders", 90*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if h.Seq != 25 || len(h.Live) != 3 || h.Live["retired"] {
		t.Fatalf("horizon %+v: want seq 25 (ben), live anna, ben, carl", h)
	}
	if other, _ := ComputeHorizon(ctx, st, "parts", 90*24*time.Hour, now); other.Seq != 0 {
		t.Fatalf("a collection nobody acknowledged: seq %d, want 0", other.Seq)
	}
	if _, err := ComputeHorizon(ctx, st, "orders", 0, now); err == nil {
		t.Fatal("a horizon without retention")
	}

	d := crdt.NewDoc("wo-1")
	for i, client := range []string{"anna", "retired"} {
		m := crdt.Mutation{ID: "wo-1", Client: client, Mid: 1, Clock: crdt.HLC{Wall: int64(i + 1), Actor: client},
			Set: []crdt.PathValue{{Path: "status", Value: []byte(`"open"`)}}}
		if _, err := d.Apply(&m, crdt.Fields{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := h.ForDoc(d, 30); ok {
		t.Error("a document changed after ben's acknowledgement is not stable")
	}
	dh, ok := h.ForDoc(d, 20)
	if !ok || dh.Clock != d.MaxClock() || len(dh.Seen) != 1 || dh.Seen["anna"] != 1 {
		t.Fatalf("document horizon %+v, %v: want its max clock and anna's entry only", dh, ok)
	}
}
