package live

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/fanout"
	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/embedded"
	"github.com/lattice-sync/lattice/syncnode/store/storetest"
)

// rig is a real embedded store and a memory bus that commits publish to.
type rig struct {
	st  store.Store
	bus *fanout.MemoryBus
	hub *fanout.Hub
	ctx context.Context
	n   int
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "lattice.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); _ = st.Close(context.Background()) })
	bus := fanout.NewMemoryBus()
	hub, err := fanout.NewHub(ctx, fanout.HubConfig{Bus: bus})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{st: st, bus: bus, hub: hub, ctx: ctx}
}

// commit writes a new document and publishes the commit.
func (r *rig) commit(t *testing.T) uint64 {
	t.Helper()
	r.n++
	id := fmt.Sprintf("d%04d", r.n)
	res, err := r.st.Commit(r.ctx, "orders", []store.Write{{Record: storetest.Record(id, "a work order")}})
	if err != nil {
		t.Fatal(err)
	}
	seq := res.Committed[id].Seq
	_ = r.bus.Publish(r.ctx, fanout.Event{Collection: "orders", Seq: seq})
	return seq
}

// testFollower is a follower read the way a stream goroutine reads it.
type testFollower struct {
	*Follower
	ready   chan struct{}
	pending []*Page
}

func newTestFollower(feeds *Feeds) *testFollower {
	tf := &testFollower{ready: make(chan struct{}, 1)}
	tf.Follower = feeds.NewFollower(func() {
		select {
		case tf.ready <- struct{}{}:
		default:
		}
	}, nil)
	return tf
}

// poll returns the next page, or nil if none arrives within d.
func (tf *testFollower) poll(d time.Duration) *Page {
	timeout := time.After(d)
	for len(tf.pending) == 0 {
		select {
		case <-tf.ready:
			tf.pending = tf.Take()
		case <-timeout:
			return nil
		}
	}
	p := tf.pending[0]
	tf.pending = tf.pending[1:]
	return p
}

func next(t *testing.T, tf *testFollower) *Page {
	t.Helper()
	p := tf.poll(5 * time.Second)
	if p == nil {
		t.Fatal("no page within 5s")
	}
	return p
}

func TestFollowersSharePagesAndEncodings(t *testing.T) {
	r := newRig(t)
	feeds := New(r.ctx, Config{Store: r.st, Hub: r.hub})
	a, b := newTestFollower(feeds), newTestFollower(feeds)
	if !a.Join("orders", 0) || !b.Join("orders", 0) {
		t.Fatal("join at the tail's position refused")
	}
	seq := r.commit(t)
	pa, pb := next(t, a), next(t, b)
	if pa != pb {
		t.Fatal("followers at one position got different pages")
	}
	if recs, shared := pa.After(0); !shared || len(recs) != 1 || recs[0].Seq != seq {
		t.Fatalf("page after 0: %v shared=%v", recs, shared)
	}
	var encodes atomic.Int64
	enc := func(p store.Page) ([]byte, error) { encodes.Add(1); return []byte(p.Records[0].ID), nil }
	for range 3 {
		if raw, err := pa.Encoded("native", enc); err != nil || string(raw) != "d0001" {
			t.Fatalf("Encoded = %q, %v", raw, err)
		}
	}
	if encodes.Load() != 1 {
		t.Fatalf("encoded %d times, want once", encodes.Load())
	}
}

func TestJoinBehindTheTail(t *testing.T) {
	r := newRig(t)
	feeds := New(r.ctx, Config{Store: r.st, Hub: r.hub, RingPages: 2})
	lead := newTestFollower(feeds)
	lead.Join("orders", 0)
	var seqs []uint64
	for range 4 { // four pages: the ring keeps the last two
		seqs = append(seqs, r.commit(t))
		next(t, lead)
	}
	late := newTestFollower(feeds)
	if late.Join("orders", 0) {
		t.Fatal("joined at a position older than the ring")
	}
	if !late.Join("orders", seqs[2]-1) {
		t.Fatal("join inside the ring refused")
	}
	p := next(t, late)
	if recs, _ := p.After(seqs[2] - 1); len(recs) != 1 || recs[0].Seq != seqs[2] {
		t.Fatalf("first backlog page after %d: %+v", seqs[2]-1, recs)
	}
	if recs, _ := next(t, late).After(seqs[2]); len(recs) != 1 || recs[0].Seq != seqs[3] {
		t.Fatalf("second backlog page: %+v", recs)
	}
}

func TestSlowFollowerIsCutOthersGoOn(t *testing.T) {
	r := newRig(t)
	feeds := New(r.ctx, Config{Store: r.st, Hub: r.hub, QueuePages: 2})
	slow, fast := newTestFollower(feeds), newTestFollower(feeds)
	slow.Join("orders", 0)
	fast.Join("orders", 0)
	for range 5 {
		r.commit(t)
		next(t, fast)
	}
	select {
	case <-slow.Cut():
	case <-time.After(5 * time.Second):
		t.Fatal("a follower that read nothing was not cut")
	}
	if feeds.Cuts() != 1 {
		t.Fatalf("cuts = %d", feeds.Cuts())
	}
	r.commit(t)
	next(t, fast)
}

func TestIdleTailRetiresAndANewOneStarts(t *testing.T) {
	r := newRig(t)
	feeds := New(r.ctx, Config{Store: r.st, Hub: r.hub, IdleAfter: 10 * time.Millisecond})
	a := newTestFollower(feeds)
	a.Join("orders", 0)
	a.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		feeds.mu.Lock()
		n := len(feeds.tails)
		feeds.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle tail did not retire")
		}
	}
	seq := r.commit(t)
	b := newTestFollower(feeds)
	if !b.Join("orders", 0) {
		t.Fatal("join refused after the tail retired")
	}
	if recs, _ := next(t, b).After(0); len(recs) != 1 || recs[0].Seq != seq {
		t.Fatalf("new tail's first page: %+v", recs)
	}
}

// TestJoiningWhileWritersCommitMissesNothing runs the streams' algorithm (read the
// store from the cursor, then join; read again when the tail is past) while
// commits go on, and checks each follower sees every document.
func TestJoiningWhileWritersCommitMissesNothing(t *testing.T) {
	r := newRig(t)
	feeds := New(r.ctx, Config{Store: r.st, Hub: r.hub, RingPages: 2, PageLimit: 3})
	const total = 120
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range total {
			r.commit(t)
		}
	}()
	var followers sync.WaitGroup
	for i := range 8 {
		followers.Add(1)
		go func() {
			defer followers.Done()
			time.Sleep(time.Duration(i) * time.Millisecond)
			if seen := follow(t, r, feeds, total); seen != total {
				t.Errorf("follower %d saw %d of %d documents", i, seen, total)
			}
		}()
	}
	wg.Wait()
	followers.Wait()
}

// follow reads like a stream until it has seen want documents (or 10 s pass).
func follow(t *testing.T, r *rig, feeds *Feeds, want int) int {
	fl := newTestFollower(feeds)
	defer fl.Close()
	seen := map[string]bool{}
	cursor := uint64(0)
	for joined := false; !joined; {
		for more := true; more; {
			page, err := r.st.Changes(r.ctx, "orders", cursor, 3)
			if err != nil {
				t.Error(err)
				return 0
			}
			for _, rec := range page.Records {
				seen[rec.ID] = true
			}
			cursor, more = max(cursor, page.Next), page.HasMore
		}
		joined = fl.Join("orders", cursor)
	}
	for deadline := time.Now().Add(10 * time.Second); len(seen) < want && time.Now().Before(deadline); {
		select {
		case <-fl.Cut():
			t.Error("follower cut")
			return len(seen)
		default:
		}
		p := fl.poll(100 * time.Millisecond)
		if p == nil {
			continue
		}
		recs, _ := p.After(cursor)
		for _, rec := range recs {
			seen[rec.ID] = true
		}
		cursor = max(cursor, p.To)
	}
	return len(seen)
}
