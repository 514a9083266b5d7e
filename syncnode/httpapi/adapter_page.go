package httpapi

import (
	"context"
	"fmt"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// firstBatch is how many records a budgeted read asks the store for first; later
// batches are sized by what the records read so far weigh, at most doubling what was
// read and never over maxBatch, so that a run of small documents followed by large
// ones does not load many of the large ones past the budget.
const (
	firstBatch = 16
	maxBatch   = 1000
)

// pageRoom is what a page has room for: bytes of documents (as store.Record.Weight counts
// them) and records.
type pageRoom struct {
	bytes, records int
}

// pageRoom returns the room of a whole page: MaxPageBytes and MaxPullLimit.
func (a *API) pageRoom() pageRoom {
	return pageRoom{bytes: a.cfg.MaxPageBytes, records: a.cfg.MaxPullLimit}
}

// full reports whether nothing more fits.
func (r pageRoom) full() bool { return r.bytes <= 0 || r.records <= 0 }

// budgetPage reads coll's feed after `after` into one page that fits in room; when
// atLeastOne, the page holds at least one record whatever its weight. A page cut
// short ends at its last record's seq (after when it holds none) and has more, so
// resuming from its Next skips nothing (docs/change-feed.md). It asks the store for
// small batches, sized by the weight read so far, so that it holds little more than
// the room. It returns the room left.
func (a *API) budgetPage(ctx context.Context, coll string, after uint64, room pageRoom, atLeastOne bool) (store.Page, pageRoom, error) {
	page, used := store.Page{Next: after, HasMore: true}, 0
	for batch := firstBatch; page.HasMore && used < room.bytes && len(page.Records) < room.records; {
		p, err := a.cfg.Store.Changes(ctx, coll, page.Next, min(batch, room.records-len(page.Records)))
		if err != nil {
			return store.Page{}, room, fmt.Errorf("read the feed of %s after %d: %w", coll, page.Next, err)
		}
		for _, r := range p.Records {
			w := r.Weight()
			if used+w > room.bytes && (len(page.Records) > 0 || !atLeastOne) {
				return cutPage(page, after), room.less(used, len(page.Records)), nil
			}
			page.Records, used = append(page.Records, r), used+w
		}
		page.Next, page.HasMore = max(page.Next, p.Next), p.HasMore
		batch = nextBatch(used, len(page.Records), room.bytes)
	}
	return page, room.less(used, len(page.Records)), nil
}

// less is what is left of r once a page took bytes and records.
func (r pageRoom) less(bytes, records int) pageRoom {
	return pageRoom{bytes: r.bytes - bytes, records: r.records - records}
}

// cutPage ends page at its last record: there is more after it.
func cutPage(page store.Page, after uint64) store.Page {
	next := after
	if n := len(page.Records); n > 0 {
		next = max(after, page.Records[n-1].Seq)
	}
	return store.Page{Records: page.Records, Next: next, HasMore: true}
}

// nextBatch sizes the next read: what is left of budget at the mean weight of the
// n records read so far (used), plus one to find where the budget ends; at most n
// (the records read double) and maxBatch.
func nextBatch(used, n, budget int) int {
	if n == 0 {
		return firstBatch
	}
	return min((budget-used)/(used/n+1)+1, max(n, firstBatch), maxBatch)
}
