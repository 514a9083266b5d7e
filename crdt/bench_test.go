package crdt

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
)

// BenchmarkLWWFieldMerge measures last-writer-wins field merges: each op applies one
// mutation that sets one of 10 fields of a document (half of them losing to a later
// clock already there). Reported as field merges per second.
func BenchmarkLWWFieldMerge(b *testing.B) {
	d := NewDoc("d")
	ms := make([]Mutation, 1024)
	for i := range ms {
		ms[i] = Mutation{ID: "d", Client: "c" + fmt.Sprint(i%4), Mid: uint64(i/4 + 1),
			Clock: HLC{Wall: int64(1000 + i%512), Actor: "c"},
			Set:   []PathValue{{Path: fmt.Sprintf("f%d", i%10), Value: json.RawMessage(`"v"`)}}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := &ms[i%len(ms)]
		d.vv = VersionVector{} // make every op a fresh mutation, not a retry
		d.Apply(m, nil)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "merges/s")
}

// BenchmarkStateMerge measures state-based merges of two 50-field documents.
func BenchmarkStateMerge(b *testing.B) {
	x, y := NewDoc("d"), NewDoc("d")
	for i := 0; i < 50; i++ {
		v := json.RawMessage(fmt.Sprintf("%d", i))
		x.Apply(&Mutation{Client: "a", Mid: uint64(i + 1), Clock: HLC{Wall: int64(i), Actor: "a"}, Set: []PathValue{{Path: fmt.Sprintf("f%d", i), Value: v}}}, nil)
		y.Apply(&Mutation{Client: "b", Mid: uint64(i + 1), Clock: HLC{Wall: int64(50 - i), Actor: "b"}, Set: []PathValue{{Path: fmt.Sprintf("f%d", i), Value: v}}}, nil)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		z := x.Clone()
		z.Merge(y)
	}
	b.ReportMetric(float64(b.N*50)/b.Elapsed().Seconds(), "field-merges/s")
}

// BenchmarkMetadataOverhead reports, for a document edited by 20 clients, the
// storage bytes beyond its materialised JSON, before and after compaction.
func BenchmarkMetadataOverhead(b *testing.B) {
	var before, after, doc int
	for i := 0; i < b.N; i++ {
		h := newHistory(uint64(i), 20)
		h.run(&testing.T{}, 400)
		d := merged(h.replicas...)
		doc = len(d.Materialize())
		before = len(d.AppendBinary(nil))
		d.Compact(Horizon{Clock: d.MaxClock(), Seen: d.VersionVector()})
		after = len(d.AppendBinary(nil))
	}
	b.ReportMetric(float64(doc), "doc-bytes")
	b.ReportMetric(float64(before-doc), "overhead-bytes")
	b.ReportMetric(float64(after-doc), "overhead-after-compaction-bytes")
}

// BenchmarkNewDocument measures the engine's CPU for one push mutation creating a
// document of 5 small fields (the workload of the push benchmarks): parsing the wire
// mutation, applying it to an empty state, and encoding the state and its JSON.
func BenchmarkNewDocument(b *testing.B) {
	w := protocol.Mutation{ID: "w0-1732377600000000000-17", Mid: 18, Set: map[string]json.RawMessage{
		"title": json.RawMessage(`"Pump 17"`), "status": json.RawMessage(`"open"`), "site": json.RawMessage(`"Oslo"`),
		"priority": json.RawMessage(`2`), "done": json.RawMessage(`false`)}}
	clock := HLC{Wall: 1732377600000, Actor: "w0-1732377600000000000"}
	b.ReportAllocs()
	for b.Loop() {
		m, err := ParseMutation(&w, clock.Actor, clock, nil, Limits{})
		if err != nil {
			b.Fatal(err)
		}
		d := NewDoc(m.ID)
		if _, err := d.Apply(&m, nil); err != nil {
			b.Fatal(err)
		}
		js, _ := d.AppendJSON(nil)
		_ = d.AppendBinary(nil)
		_, _ = js, d.Version()
	}
}
