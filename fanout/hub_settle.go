package fanout

import "time"

// settleLocked makes sure collection's streams are woken once this node's feed
// reaches seq: at most one watcher runs per collection, and a later event only
// raises the position it waits for.
func (h *Hub) settleLocked(collection string, seq uint64) {
	if pending, running := h.settle[collection]; running {
		h.settle[collection] = max(pending, seq)
		return
	}
	h.settle[collection] = seq
	go h.watchSettle(collection)
}

// watchSettle reads the feed's head until it reaches the position the collection's
// events announced, then wakes its streams; it gives up waiting (and wakes them
// anyway) after SettleTimeout.
func (h *Hub) watchSettle(collection string) {
	wait := 500 * time.Microsecond
	deadline := time.Now().Add(h.cfg.SettleTimeout)
	for {
		head, err := h.cfg.Head(h.ctx, collection)
		h.mu.Lock()
		target := h.settle[collection]
		reached := err == nil && head >= target
		if reached || time.Now().After(deadline) || h.ctx.Err() != nil {
			delete(h.settle, collection)
			h.wakeLocked(collection)
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		if !sleep(h.ctx, wait) {
			return
		}
		wait = min(2*wait, 50*time.Millisecond)
	}
}
