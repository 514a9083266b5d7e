package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// view is what one client following the feed has seen.
type view struct {
	name string
	mu   sync.Mutex
	docs map[string]docState
	// older lists documents seen going back to a state with fewer hours.
	older []string
}

func newView(name string) *view { return &view{name: name, docs: map[string]docState{}} }

func (v *view) apply(changes []docState) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, d := range changes {
		if prev, ok := v.docs[d.ID]; ok && d.Doc.Hours < prev.Doc.Hours {
			v.older = append(v.older, fmt.Sprintf("%s %v->%v", d.ID, prev.Doc.Hours, d.Doc.Hours))
		}
		v.docs[d.ID] = d
	}
}

func (v *view) regressions() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.older
}

// stream follows /v1/stream from replica n; when the stream ends it resumes on the
// next replica with the last event id.
func (v *view) stream(ctx context.Context, c *cluster, n int) {
	lastID := ""
	for ; ctx.Err() == nil; n = n%3 + 1 {
		events, err := c.openStream(ctx, n, "/v1/stream?collections="+checkerColl, lastID)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for ev := range events {
			var sc struct {
				Changes []docState `json:"changes"`
			}
			if json.Unmarshal([]byte(ev.data), &sc) == nil {
				v.apply(sc.Changes)
				lastID = ev.id
			}
		}
	}
}

// pull follows pull checkpoints through random replicas.
func (v *view) pull(ctx context.Context, c *cluster) {
	checkpoint := ""
	for ctx.Err() == nil {
		docs, next, err := pullAll(ctx, c, rand.IntN(3)+1, checkpoint)
		if err == nil {
			changes := make([]docState, 0, len(docs))
			for _, d := range docs {
				changes = append(changes, d)
			}
			v.apply(changes)
			checkpoint = next
		}
		time.Sleep(time.Duration(50+rand.IntN(150)) * time.Millisecond)
	}
}

// waitFor waits until the view holds every document of final at its version.
func (v *view) waitFor(t *testing.T, final map[string]docState, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing := v.differences(final)
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s never reached the final state: %s", v.name, missing)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (v *view) differences(final map[string]docState) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	for id, d := range final {
		if got := v.docs[id]; got.Version != d.Version {
			return fmt.Sprintf("%s at hours %v, final %v", id, got.Doc.Hours, d.Doc.Hours)
		}
	}
	return ""
}
