package embedded

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/store/storetest"
)

// Benchmarks: Commit throughput (batches of 100 new small documents; single
// documents from one goroutine; single documents from 32 goroutines, where group
// commit shares fsyncs) and Changes catch-up. Run with
//
//	go test -run '^$' -bench . ./syncnode/store/embedded/

func openBench(b *testing.B) *Store {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func benchCommit(b *testing.B, batch int) { storetest.BenchCommit(b, openBench(b), batch) }

func BenchmarkCommitBatch100(b *testing.B) { benchCommit(b, 100) }
func BenchmarkCommitSingle(b *testing.B)   { benchCommit(b, 1) }

// BenchmarkCommitSingleConcurrent commits single documents from 32 goroutines.
func BenchmarkCommitSingleConcurrent(b *testing.B) {
	s := openBench(b)
	var n atomic.Int64
	b.SetParallelism(16) // 16 x GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := fmt.Sprint("p", n.Add(1))
			if _, err := s.Commit(context.Background(), "bench", storetest.BenchWrites(id, 1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkChangesCatchUp reads a feed of 20,000 documents in pages of 1,000.
func BenchmarkChangesCatchUp(b *testing.B) {
	storetest.BenchCatchUp(b, openBench(b), 20000, 1000)
}
