package live

import "sync"

// Follower is one stream's membership in the tails of its collections: a queue of
// pages, filled by the tails, that the stream drains with Take.
type Follower struct {
	feeds *Feeds
	// ready is called when the queue goes from empty to non-empty; cut when the
	// follower is cut. Both are called with a tail's lock held: they must not block.
	ready, onCut func()

	mu     sync.Mutex
	queue  []*Page
	isCut  bool
	cut    chan struct{}
	tails  []*tail
	closed bool
}

// NewFollower returns a follower that has joined nothing yet. ready is called
// whenever pages become available to Take; cut (optional) when the follower has
// fallen so far behind that it was dropped. Neither may block.
func (f *Feeds) NewFollower(ready, cut func()) *Follower {
	return &Follower{feeds: f, ready: ready, onCut: cut, cut: make(chan struct{})}
}

// Take returns the queued pages, in feed order per collection, and empties the
// queue. A page may start before the stream's position (see Page.After).
func (fl *Follower) Take() []*Page {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	q := fl.queue
	fl.queue = nil
	return q
}

// Queued returns how many pages wait in the queue.
func (fl *Follower) Queued() int {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return len(fl.queue)
}

// Cut is closed when the follower fell so far behind that it was dropped from its
// tails: the stream must end (the client resumes with its last event id).
func (fl *Follower) Cut() <-chan struct{} { return fl.cut }

// Join starts delivering collection's pages after cursor, a checkpoint the stream
// has sent everything up to. It returns false when the tail is past cursor by more
// than its recent pages: read the store from cursor, then join again.
func (fl *Follower) Join(collection string, cursor uint64) bool {
	for {
		t := fl.feeds.tailFor(collection, cursor)
		switch t.join(fl, cursor) {
		case behind:
			return false
		case joined:
			fl.mu.Lock()
			fl.tails = append(fl.tails, t)
			fl.mu.Unlock()
			return true
		}
		// retired between tailFor and join: the next tailFor starts a new one
	}
}

// Close leaves every joined tail.
func (fl *Follower) Close() {
	fl.mu.Lock()
	tails := fl.tails
	fl.tails, fl.closed, fl.queue = nil, true, nil
	fl.mu.Unlock()
	for _, t := range tails {
		t.leave(fl)
	}
}

// cutOff marks the follower cut, once; the caller has removed it from the tail
// whose page it could not take.
func (fl *Follower) cutOff() {
	fl.mu.Lock()
	first := !fl.isCut
	fl.isCut, fl.queue = true, nil
	fl.mu.Unlock()
	if !first {
		return
	}
	fl.feeds.cuts.Add(1)
	close(fl.cut)
	if fl.onCut != nil {
		fl.onCut()
	}
}

// offer queues p; false if the queue is full (the caller cuts the follower).
func (fl *Follower) offer(p *Page) bool {
	fl.mu.Lock()
	if fl.isCut || fl.closed {
		fl.mu.Unlock()
		return true
	}
	if len(fl.queue) >= fl.feeds.cfg.QueuePages {
		fl.mu.Unlock()
		return false
	}
	fl.queue = append(fl.queue, p)
	wake := len(fl.queue) == 1
	fl.mu.Unlock()
	if wake {
		fl.ready()
	}
	return true
}
