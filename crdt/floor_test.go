package crdt

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
)

// TestCompactionFloorRefusesOlderClocks: after compaction, a new mutation whose clock
// is at or below the horizon is refused (its history may be gone), a retry of an
// applied one is still a no-op, a later clock applies, and the floor survives the
// storage encoding and merges.
func TestCompactionFloorRefusesOlderClocks(t *testing.T) {
	d := NewDoc("d")
	apply := func(client string, mid uint64, wall int64, w protocol.Mutation) error {
		w.ID, w.Mid = "d", mid
		m, err := ParseMutation(&w, client, HLC{Wall: wall, Actor: client}, parseFields, Limits{})
		if err != nil {
			return err
		}
		_, err = d.Apply(&m, parseFields)
		return err
	}
	incr := protocol.Mutation{Incr: map[string]json.RawMessage{"hours": json.RawMessage("1")}}
	if err := apply("anna", 1, 100, incr); err != nil {
		t.Fatal(err)
	}
	if err := apply("ben", 1, 200, protocol.Mutation{Unset: []string{"status"}}); err != nil {
		t.Fatal(err)
	}
	if len(d.AppendBinary(nil)) < 3 || d.AppendBinary(nil)[2] != encVersion {
		t.Fatal("a document never compacted is not encoded as version 2")
	}
	d.Compact(Horizon{Clock: d.MaxClock(), Seen: d.VersionVector()})
	if err := apply("anna", 1, 100, incr); err != nil {
		t.Fatalf("a retry after compaction: %v", err)
	}
	if err := apply("carl", 1, 150, protocol.Mutation{Set: map[string]json.RawMessage{"status": json.RawMessage(`"open"`)}}); !errors.Is(err, ErrStaleClock) {
		t.Fatalf("an older clock after compaction: %v, want ErrStaleClock", err)
	}
	if err := apply("carl", 2, 300, incr); err != nil {
		t.Fatalf("a later clock: %v", err)
	}
	enc := d.AppendBinary(nil)
	back, err := UnmarshalDoc("d", enc)
	if err != nil || enc[2] != encVersion3 || back.Floor() != d.Floor() || d.Floor().Wall != 200 {
		t.Fatalf("round trip: %v, version %d, floor %v want %v", err, enc[2], back.Floor(), d.Floor())
	}
	fresh := NewDoc("d")
	fresh.Merge(back)
	if fresh.Floor() != back.Floor() {
		t.Fatalf("merge lost the floor: %v", fresh.Floor())
	}
}
