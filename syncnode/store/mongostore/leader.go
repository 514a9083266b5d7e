package mongostore

import (
	"context"
	"time"
)

// The group commit's leader (group.go queues the requests) writes rounds into an
// open allocation. How long an allocation stays open depends on the mode:
//
//   - Alone (no other process has allocated in this collection lately, and writes
//     are acknowledged by a majority): the leader allocates several rounds' worth
//     of seqs at once (twice what its previous allocation used, up to rangeSize)
//     and writes round after round into them, answering each round's callers when
//     the next round starts. This process's own feed reads know how far its open
//     allocations are written (settled.go), so a pull through this node sees a push
//     as soon as the push is answered. Other processes see the writes when the
//     allocation is released: once it is used up, once it has been open for
//     rangeHold, or as soon as the queue is empty.
//   - Shared (another process allocated, seen as a compare-and-swap miss on the
//     sequencer, within sharedFor): one allocation per round, released with the
//     next round's allocation, and a round's callers are answered only once it is
//     released, so a pull through any node sees their writes then (unless another
//     node's allocation from just before is still open).
//
// Either way the last round before the queue empties is answered after its release.

const (
	// rangeSize bounds how many seqs an allocation holds when the leader is alone
	// (and so how many seals its abandonment inserts).
	rangeSize = 1000
	// rangeHold bounds how long an allocation stays open while the leader is alone:
	// how late other processes' feeds may see this one's writes under steady load.
	// A quarter of the lease bounds it too, so that readers do not take an open
	// allocation for a dead one.
	rangeHold = 50 * time.Millisecond
	// sharedFor is how long the leader keeps one allocation per round after it saw
	// another process allocate.
	sharedFor = 10 * time.Second
)

// openAlloc is the allocation the leader writes rounds into.
type openAlloc struct {
	first  int64
	n      int64
	used   int64 // seqs handed to rounds
	opened time.Time
}

// fits reports whether n more writes fit in a.
func (a *openAlloc) fits(n int) bool { return a.used+int64(n) <= a.n }

// leader runs the rounds of one collection while its queue is not empty.
type leader struct {
	s          *Store
	collection string
	cs         *collState
	open       *openAlloc // nil: none
	waiting    []*round   // written, answered once open is released
}

// lead runs rounds until the queue is empty. Its context carries no cancellation:
// every queued caller's writes ride on it.
func (s *Store) lead(ctx context.Context, collection string, c *committer) {
	l := &leader{s: s, collection: collection, cs: s.coll(collection)}
	for {
		group := c.take()
		if len(group) == 0 {
			l.releaseIdle(ctx)
			if c.stepDown() {
				return
			}
			continue
		}
		r := newRound(group)
		if err := l.runRound(ctx, r); err != nil {
			r.fail(err)
		}
	}
}

// alone reports whether the leader may keep an allocation open across rounds.
func (l *leader) alone() bool {
	return l.s.settleLocally && !l.cs.sharedSince(l.s.now().Add(-sharedFor))
}

// runRound gives r the next seqs of the open allocation (allocating first if it has
// no room or has been open too long), writes r, and answers its callers or queues
// them for the release.
func (l *leader) runRound(ctx context.Context, r *round) error {
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	alone := l.alone()
	if alone {
		l.answerWaiting() // another round follows: this process's reads see theirs
	}
	if !alone || l.open == nil || !l.open.fits(len(r.writes)) || l.s.now().Sub(l.open.opened) > min(rangeHold, l.s.lease/4) {
		if err := l.allocate(ctx, len(r.writes), alone); err != nil {
			return err
		}
	}
	a := l.open
	r.first = a.first + a.used
	a.used += int64(len(r.writes))
	gone, err := l.s.writeRound(ctx, l.collection, r, a)
	if err != nil {
		l.drop()
		return err
	}
	l.cs.settled.advance(a.first, r.first+int64(len(r.writes))-1)
	l.waiting = append(l.waiting, r)
	if gone {
		l.drop() // r abandoned the allocation: every process's reads see its writes
	}
	return nil
}

// allocate opens a new allocation for a round of n writes (for several rounds when
// the leader is alone), releasing the open one in the same update and answering the
// rounds waiting for that release.
func (l *leader) allocate(ctx context.Context, n int, alone bool) error {
	var releasing int64
	used := l.cs.lastUsed
	if l.open != nil {
		releasing, used = l.open.first, l.open.used
	}
	size := int64(n)
	if alone {
		size = max(size, min(2*used, rangeSize))
	}
	first, err := l.s.allocate(ctx, l.collection, size, releasing)
	if l.open != nil {
		if err != nil {
			_ = l.s.release(ctx, l.collection, l.open.first)
		}
		l.closed()
	}
	if err != nil {
		return err
	}
	l.cs.settled.open(first)
	l.open = &openAlloc{first: first, n: size, opened: l.s.now()}
	return nil
}

// releaseIdle releases the open allocation, if any, and answers the rounds waiting
// for it. Their writes are durable whatever happens now: if the release fails, a
// reader abandons the entry after the lease, and the writes, at their seqs, reach
// the feed then. If the entry is already gone, an abandoner sealed its seqs first;
// each write that succeeded landed before that, while the entry was pending, so it
// is delivered too (docs/change-feed.md).
func (l *leader) releaseIdle(ctx context.Context) {
	if l.open == nil {
		l.answerWaiting()
		return
	}
	ctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
	defer cancel()
	_ = l.s.release(ctx, l.collection, l.open.first)
	l.closed()
}

// closed forgets the open allocation, released (or left to a reader's lease), and
// answers the rounds that waited for it.
func (l *leader) closed() {
	l.cs.settled.close(l.open.first, l.open.first+l.open.n-1)
	l.cs.lastUsed = l.open.used
	l.open = nil
	l.answerWaiting()
}

// answerWaiting answers the callers of the rounds written so far.
func (l *leader) answerWaiting() {
	for _, r := range l.waiting {
		r.finish()
	}
	l.waiting = nil
}

// drop gives up the open allocation after a round's write failed: the round
// abandoned it (settleFailed: sealed, then removed), or it stays for a reader's
// lease (a hook stopped the commit as a dying process would, or settling failed).
// What this process knows of it stays as it was: after an error a write of the
// round may still be in flight. The rounds already written are answered: their
// writes are durable and reach the feed either way.
func (l *leader) drop() {
	l.cs.settled.forget(l.open.first)
	l.open = nil
	l.answerWaiting()
}
