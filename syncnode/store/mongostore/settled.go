package mongostore

import "sync"

// settledRecord is what this process knows of its own allocations in one
// collection, for its own feed reads: for each, by its first seq, the last seq up to
// which every write of the allocation is done (first-1: none yet). A reader may take
// that as the allocation's contribution to the watermark instead of first-1, since
// no write of those seqs can still land (docs/change-feed.md, "Local knowledge").
// Only the leader writes into an allocation, and it advances the record after the
// writes of a round are acknowledged.
//
// Allocations that are released (or given up) are kept for a while, so that a
// sequencer read from just before their release does not hold the watermark back;
// an allocation the record no longer knows counts as first-1, which is always safe.
type settledRecord struct {
	mu     sync.Mutex
	upTo   map[int64]int64
	closed []int64 // firsts of released or given-up allocations, oldest first
}

// keepClosed is how many released allocations the record keeps.
const keepClosed = 8

// open records a new allocation from first, with nothing written yet.
func (r *settledRecord) open(first int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.upTo == nil {
		r.upTo = map[int64]int64{}
	}
	r.upTo[first] = first - 1
}

// advance records that every write of the allocation from first up to seq upTo is
// done.
func (r *settledRecord) advance(first, upTo int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.upTo[first]; ok {
		r.upTo[first] = upTo
	}
}

// close records that the allocation from first, ending at last, is released: no
// write of it is still to come.
func (r *settledRecord) close(first, last int64) {
	r.advance(first, last)
	r.forget(first)
}

// forget marks the allocation from first as no longer written to by the leader, as
// it stands; it is dropped from the record after keepClosed more.
func (r *settledRecord) forget(first int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = append(r.closed, first)
	if len(r.closed) > keepClosed {
		delete(r.upTo, r.closed[0])
		r.closed = r.closed[1:]
	}
}

// settledUpTo returns how far the allocation from first is known to be written, and
// whether it is known at all.
func (r *settledRecord) settledUpTo(first int64) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	upTo, ok := r.upTo[first]
	return upTo, ok
}
