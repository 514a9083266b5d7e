package live

import (
	"sync"
	"time"

	"github.com/lattice-sync/lattice/fanout"
)

// tail follows one collection's feed for every stream of the node that joined it.
type tail struct {
	feeds *Feeds
	coll  string

	mu sync.Mutex
	// pos is the checkpoint the tail has read up to: every page it has handed
	// out ends at or before it, and the next one starts there.
	pos uint64
	// ring holds the latest pages, oldest first, contiguous.
	ring      []*Page
	followers map[*Follower]struct{}
	closed    bool
}

// joinResult says what join did.
type joinResult int

const (
	joined  joinResult = iota
	behind             // the tail is past the cursor: read the store first
	retired            // the tail stopped: get a new one
)

// join adds fl at cursor: at once if the tail has not passed cursor, with the
// recent pages after cursor queued if the ring still covers it.
func (t *tail) join(fl *Follower, cursor uint64) joinResult {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return retired
	}
	if cursor < t.pos {
		i := t.ringIndex(cursor)
		if i < 0 {
			return behind
		}
		for _, p := range t.ring[i:] {
			if !fl.offer(p) {
				fl.cutOff()
				return joined // cut at once: the stream ends and resumes
			}
		}
	}
	t.followers[fl] = struct{}{}
	return joined
}

// ringIndex returns the index of the ring page that holds cursor, or -1.
func (t *tail) ringIndex(cursor uint64) int {
	for i, p := range t.ring {
		if p.From <= cursor && cursor < p.To {
			return i
		}
	}
	return -1
}

func (t *tail) leave(fl *Follower) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.followers, fl)
}

// snapshot returns the current followers.
func (t *tail) snapshot() []*Follower {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]*Follower, 0, len(t.followers))
	for fl := range t.followers {
		out = append(out, fl)
	}
	return out
}

// run reads the feed whenever the hub wakes the tail, until the node stops or no
// stream has followed the tail for IdleAfter.
func (t *tail) run(sub *fanout.Subscription) {
	f := t.feeds
	defer f.cfg.Hub.Unsubscribe(sub)
	idle := time.NewTicker(f.cfg.IdleAfter)
	defer idle.Stop()
	retry := time.Duration(0)
	for {
		var again <-chan time.Time
		if err := t.readNew(); err != nil {
			f.cfg.Logger.Warn("live: reading the change feed failed; retrying", "collection", t.coll, "err", err)
			retry = min(max(2*retry, 50*time.Millisecond), 5*time.Second)
			again = time.After(retry)
		} else {
			retry = 0
		}
		select {
		case <-sub.C:
		case <-again:
		case <-idle.C:
			if f.retire(t) {
				return
			}
		case <-f.ctx.Done():
			f.retire(t)
			return
		}
	}
}

// readNew reads every page after pos and hands each to the followers.
func (t *tail) readNew() error {
	f := t.feeds
	for {
		page, err := f.cfg.Store.Changes(f.ctx, t.coll, t.pos, f.cfg.PageLimit)
		if err != nil {
			return err
		}
		page = page.Within(f.cfg.PageBytes)
		if page.Next <= t.pos && len(page.Records) == 0 {
			return nil
		}
		p := &Page{Collection: t.coll, From: t.pos, To: max(page.Next, t.pos), Records: page.Records}
		if n := t.publish(p); n >= 0 && f.cfg.OnPage != nil {
			f.cfg.OnPage(p, n)
		}
		if !page.HasMore {
			return nil
		}
	}
}

// publish appends p to the ring, moves pos to its end and queues it for every
// follower; a follower whose queue is full is dropped and cut. It returns how many
// followers got p (-1 for a page without records, which nobody gets).
func (t *tail) publish(p *Page) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pos = p.To
	if len(p.Records) == 0 {
		if n := len(t.ring); n > 0 && len(t.ring[n-1].Records) == 0 {
			t.ring[n-1] = &Page{Collection: t.coll, From: t.ring[n-1].From, To: p.To}
			return -1
		}
		t.appendRing(p)
		return -1 // nothing to send: followers' positions need not move
	}
	t.appendRing(p)
	for fl := range t.followers {
		if !fl.offer(p) {
			delete(t.followers, fl)
			fl.cutOff()
		}
	}
	return len(t.followers)
}

func (t *tail) appendRing(p *Page) {
	if len(t.ring) >= t.feeds.cfg.RingPages {
		copy(t.ring, t.ring[1:])
		t.ring = t.ring[:len(t.ring)-1]
	}
	t.ring = append(t.ring, p)
}
