package mongostore

import (
	"sync"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
)

// TestNodesRecordANewClientAtOnce: two nodes upserting the same new client at the
// same moment both succeed (the insert race's duplicate key is retried as an
// update), and the later time wins.
func TestNodesRecordANewClientAtOnce(t *testing.T) {
	srv := ferrettest.Start(t)
	a, b := newNode(t, srv, "a", 0), newNode(t, srv, "b", 0)
	ctx := testCtx(t)
	base := time.UnixMilli(1_700_000_000_000)
	for round := range 20 {
		client := "tablet-" + string(rune('a'+round))
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				node := a
				if i%2 == 1 {
					node = b
				}
				errs[i] = node.Seen(ctx, client, base.Add(time.Duration(i)*time.Second))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, writer %d: %v", round, i, err)
			}
		}
		seen, ok, err := a.LastSeen(ctx, client)
		if err != nil || !ok || !seen.Equal(base.Add(7*time.Second)) {
			t.Fatalf("round %d: last seen %v %v %v", round, seen, ok, err)
		}
	}
}
