package compact

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// Horizon is what compaction may rely on in one collection.
type Horizon struct {
	// Seq: every live client that acknowledged the collection at all acknowledged
	// its feed up to Seq, so a document whose last change is at or below Seq is held,
	// in its current state, by each of them.
	Seq uint64
	// Live holds the actors seen within the retention. The others are retired: they
	// must reset (410) before they sync again, so their entries can be folded.
	Live map[string]bool
}

// ComputeHorizon reads the registry: the clients seen since now−retention, and the
// least acknowledgement of collection among those that made one (a client that
// never pulled the collection from a checkpoint holds nothing of it to protect).
// With no acknowledgement at all, Seq is 0: nothing of the collection is stable.
func ComputeHorizon(ctx context.Context, reg store.Clients, collection string, retention time.Duration, now time.Time) (Horizon, error) {
	if retention <= 0 {
		return Horizon{}, fmt.Errorf("compaction horizon: needs a retention (clients beyond it must reset)")
	}
	h := Horizon{Seq: math.MaxUint64, Live: map[string]bool{}}
	err := reg.ListClients(ctx, now.Add(-retention), func(r store.ClientRecord) error {
		h.Live[r.ID] = true
		if seq, ok := r.Acked[collection]; ok {
			h.Seq = min(h.Seq, seq)
		}
		return nil
	})
	if err != nil {
		return Horizon{}, fmt.Errorf("compaction horizon of %s: %w", collection, err)
	}
	if h.Seq == math.MaxUint64 {
		h.Seq = 0
	}
	return h, nil
}

// ForDoc is the crdt.Horizon of document d, last changed at feed position seq:
// its whole state (every clock in it, and what its live writers applied) when every
// live client holds that state, and false otherwise (the document changed after
// some live client's acknowledgement: nothing of it is stable yet).
func (h Horizon) ForDoc(d *crdt.Doc, seq uint64) (crdt.Horizon, bool) {
	if seq == 0 || seq > h.Seq {
		return crdt.Horizon{}, false
	}
	seen := crdt.VersionVector{}
	for client, mid := range d.VersionVector() {
		if h.Live[client] {
			seen[client] = mid
		}
	}
	return crdt.Horizon{Clock: d.MaxClock(), Seen: seen}, true
}
