package traces_test

import (
	"runtime"
	"testing"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/crdt/traces"
)

// BenchmarkAutomergePaper replays the automerge-paper trace, one splice per patch
// (259,778 mutations, base nil). Besides ns/op and B/op it reports the encoded size,
// the encoded size after compaction and the live heap the final sequence holds.
func BenchmarkAutomergePaper(b *testing.B) {
	tr := load(b, "automerge-paper")
	ops := tr.Ops()
	b.ReportAllocs()
	b.ResetTimer()
	var s *crdt.Sequence
	for i := 0; i < b.N; i++ {
		s = crdt.NewSequence(crdt.SeqText)
		if err := traces.ApplySequential(s, ops); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s.Text(crdt.HLC{}) != tr.EndContent {
		b.Fatal("wrong content")
	}
	b.ReportMetric(float64(len(s.AppendBinary(nil))), "encoded-bytes")
	b.ReportMetric(float64(liveHeap(func() any {
		fresh := crdt.NewSequence(crdt.SeqText)
		if err := traces.ApplySequential(fresh, ops); err != nil {
			b.Fatal(err)
		}
		return fresh
	})), "heap-bytes")
	runtime.KeepAlive(ops) // else freeing ops during liveHeap hides the sequence's heap
	s.Compact(crdt.Horizon{Seen: crdt.VersionVector{"a": uint64(len(ops))}})
	b.ReportMetric(float64(len(s.AppendBinary(nil))), "compacted-bytes")
}

// BenchmarkConcurrentTraces replays the two concurrent traces.
func BenchmarkConcurrentTraces(b *testing.B) {
	for _, name := range []string{"friendsforever", "clownschool"} {
		tr := load(b, name)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := traces.ReplayConcurrent(tr); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// liveHeap returns how much heap the value built by f keeps alive.
func liveHeap(f func() any) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	v := f()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}
