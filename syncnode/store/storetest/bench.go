package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// BenchWrites returns n writes of new small documents with ids prefix-0 … prefix-(n-1),
// the documents every store benchmark commits.
func BenchWrites(prefix string, n int) []store.Write {
	ws := make([]store.Write, n)
	for i := range ws {
		id := fmt.Sprintf("%s-%d", prefix, i)
		ws[i] = store.Write{Record: Record(id, "a small document")}
	}
	return ws
}

// BenchCommit measures committing batches of batch new documents (docs/s).
func BenchCommit(b *testing.B, s store.Store, batch int) {
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		res, err := s.Commit(ctx, "bench", BenchWrites(fmt.Sprint("b", i), batch))
		if err != nil || len(res.Committed) != batch {
			b.Fatalf("commit: %v (%d committed)", err, len(res.Committed))
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "docs/s")
}

// BenchWriters runs each iteration as writers goroutines that together hand commit
// 4,000 new documents (BenchWrites) in batches of batch, and reports docs/s.
func BenchWriters(b *testing.B, writers, batch int, commit func(ws []store.Write) error) {
	per := 4000 / writers
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < per; k += batch {
					if err := commit(BenchWrites(fmt.Sprintf("w%d-%d-%d", i, w, k), min(batch, per-k))); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.N*per*writers)/b.Elapsed().Seconds(), "docs/s")
}

// BenchCommitWriters is BenchWriters committing to s.
func BenchCommitWriters(b *testing.B, s store.Store, writers, batch int) {
	BenchWriters(b, writers, batch, func(ws []store.Write) error {
		res, err := s.Commit(context.Background(), "bench", ws)
		if err == nil && len(res.Committed) != len(ws) {
			err = fmt.Errorf("%d of %d committed", len(res.Committed), len(ws))
		}
		return err
	})
}

// BenchCatchUp commits total documents in batches, then measures reading the whole
// feed from the start in pages of 1,000 (reported as docs/s).
func BenchCatchUp(b *testing.B, s store.Store, total, batch int) {
	ctx := context.Background()
	for i := range total / batch {
		if _, err := s.Commit(ctx, "bench", BenchWrites(fmt.Sprint("c", i), batch)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		n, cp := 0, uint64(0)
		for more := true; more; {
			p, err := s.Changes(ctx, "bench", cp, 1000)
			if err != nil {
				b.Fatal(err)
			}
			n, cp, more = n+len(p.Records), p.Next, p.HasMore
		}
		if n != total {
			b.Fatalf("caught up %d documents, want %d", n, total)
		}
	}
	b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "docs/s")
}
