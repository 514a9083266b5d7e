package compact

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// Options configure one compaction run.
type Options struct {
	// Store holds the documents; it must also be a store.Clients and a store.Rewriter.
	Store store.Store
	// Collections are walked in order.
	Collections []string
	// Retention: clients not seen for longer are retired (required).
	Retention time.Duration
	// DryRun measures what would be reclaimed and writes nothing.
	DryRun bool
	// MaxDocsPerSecond bounds the documents read per second (0: no bound).
	MaxDocsPerSecond float64
	// PageSize is how many documents are read at a time (default 200).
	PageSize int
	// Progress, when set, is called after each page.
	Progress func(Progress)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Progress is where a run is.
type Progress struct {
	Collection string
	Summary    Summary
}

// Summary is a run's result, the JSON `lattice compact` prints (the fields of
// api/v1alpha1.CompactionSummary).
type Summary struct {
	DocumentsScanned   int64 `json:"documentsScanned"`
	DocumentsRewritten int64 `json:"documentsRewritten"`
	TombstonesPurged   int64 `json:"tombstonesPurged"`
	ClientsFolded      int64 `json:"clientsFolded"`
	BytesBefore        int64 `json:"bytesBefore"`
	BytesAfter         int64 `json:"bytesAfter"`
	DurationSeconds    int64 `json:"durationSeconds"`
	DryRun             bool  `json:"dryRun"`
}

// Run compacts every document of the collections that every live client holds
// (docs/compaction.md), each with a compare-and-swap that keeps its feed position,
// so it is safe beside pushes on any node: a document a push changed meanwhile is
// left for the next run.
func Run(ctx context.Context, o Options) (Summary, error) {
	reg, okReg := o.Store.(store.Clients)
	rw, okRw := o.Store.(store.Rewriter)
	if !okReg || !okRw {
		return Summary{}, errors.New("compact: the store keeps no client registry or cannot rewrite in place")
	}
	o = withDefaults(o)
	start := o.Now()
	s := Summary{DryRun: o.DryRun}
	var limit *rate.Limiter
	if o.MaxDocsPerSecond > 0 {
		limit = rate.NewLimiter(rate.Limit(o.MaxDocsPerSecond), max(1, int(o.MaxDocsPerSecond)))
	}
	for _, coll := range o.Collections {
		if err := runCollection(ctx, o, reg, rw, limit, coll, &s); err != nil {
			return s, err
		}
	}
	s.DurationSeconds = int64(o.Now().Sub(start).Seconds())
	return s, nil
}

func withDefaults(o Options) Options {
	if o.PageSize <= 0 {
		o.PageSize = 200
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// runCollection walks one collection's feed from its start in pages.
func runCollection(ctx context.Context, o Options, reg store.Clients, rw store.Rewriter, limit *rate.Limiter, coll string, s *Summary) error {
	h, err := ComputeHorizon(ctx, reg, coll, o.Retention, o.Now())
	if err != nil {
		return err
	}
	for after, more := uint64(0), true; more && after < h.Seq; {
		page, err := o.Store.Changes(ctx, coll, after, o.PageSize)
		if err != nil {
			return fmt.Errorf("compact %s: read after %d: %w", coll, after, err)
		}
		if limit != nil {
			if err := limit.WaitN(ctx, max(1, min(len(page.Records), limit.Burst()))); err != nil {
				return err
			}
		}
		if err := compactPage(ctx, o, rw, h, coll, page.Records, s); err != nil {
			return err
		}
		after, more = max(after, page.Next), page.HasMore
		if o.Progress != nil {
			o.Progress(Progress{Collection: coll, Summary: *s})
		}
	}
	return nil
}

// compactPage compacts the stable documents of one page and rewrites those that shrank.
func compactPage(ctx context.Context, o Options, rw store.Rewriter, h Horizon, coll string, recs []store.Record, s *Summary) error {
	var writes []store.Write
	saved := map[string]int64{} // bytes each write saves, to take back on a conflict
	for _, rec := range recs {
		s.DocumentsScanned++
		before := int64(len(rec.State) + len(rec.Version))
		s.BytesBefore += before
		w, folded, ok, err := compactRecord(h, rec)
		if err != nil {
			return fmt.Errorf("compact %s/%s: %w", coll, rec.ID, err)
		}
		if !ok {
			s.BytesAfter += before
			continue
		}
		after := int64(len(w.Record.State) + len(w.Record.Version))
		s.BytesAfter += after
		saved[rec.ID] = before - after
		s.ClientsFolded += int64(folded)
		s.DocumentsRewritten++
		writes = append(writes, w)
	}
	if o.DryRun || len(writes) == 0 {
		return nil
	}
	res, err := rw.Rewrite(ctx, coll, writes)
	if err != nil {
		return fmt.Errorf("compact %s: rewrite: %w", coll, err)
	}
	for _, id := range res.Conflicts { // a push got there first: the next run
		s.DocumentsRewritten--
		s.BytesAfter += saved[id]
	}
	return nil
}

// compactRecord compacts one stored document at h; ok is false when it is not
// stable yet or nothing would shrink.
func compactRecord(h Horizon, rec store.Record) (w store.Write, folded int, ok bool, err error) {
	doc, err := crdt.UnmarshalDoc(rec.ID, rec.State)
	if err != nil {
		return w, 0, false, err
	}
	dh, stable := h.ForDoc(doc, rec.Seq)
	if !stable {
		return w, 0, false, nil
	}
	clients := len(doc.VersionVector())
	doc.Compact(dh)
	next := store.NewRecord(doc)
	if len(next.State)+len(next.Version) >= len(rec.State)+len(rec.Version) {
		return w, 0, false, nil
	}
	return store.Write{Record: next, ExpectRev: rec.Rev}, clients - len(doc.VersionVector()), true, nil
}
