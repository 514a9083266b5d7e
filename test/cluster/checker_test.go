package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/syncnode/feed"
)

// The checker: writers whose pushes are acknowledged or of unknown outcome,
// streamers and a reader that follow the feed through any replica, and a nemesis
// that kills replicas and restarts Redis. Afterwards: every acknowledged write is
// present, the replicas agree, counters and sets are exact, every streamer and the
// reader reach the final state, and none of them ever saw a document go back to an
// older state. LATTICE_CHECKER_DURATION sets how long the writers run (default
// 20s in `make test`; run it longer by hand).

const checkerColl = "workorders"

// checkerDocs are the documents the writers share.
var checkerDocs = func() []string {
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = fmt.Sprintf("wo-%02d", i)
	}
	return ids
}()

// history records what the writers know of each document.
type history struct {
	mu sync.Mutex
	// acked and unknown hold the tags of acknowledged pushes and of pushes whose
	// outcome is unknown; each push adds one tag and increments hours by 1.
	acked, unknown map[string][]string
	// reached is the greatest feed position an acknowledgement reported: the
	// final state is read once every replica's feed has passed it.
	reached uint64
}

func (h *history) record(doc, tag string, ok bool, position uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reached = max(h.reached, position)
	if ok {
		h.acked[doc] = append(h.acked[doc], tag)
	} else {
		h.unknown[doc] = append(h.unknown[doc], tag)
	}
}

func checkerDuration(t *testing.T) time.Duration {
	if v := os.Getenv("LATTICE_CHECKER_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("LATTICE_CHECKER_DURATION: %v", err)
		}
		return d
	}
	return 20 * time.Second
}

func TestCheckerNothingAcknowledgedIsLostUnderKillsAndRedisRestarts(t *testing.T) {
	c := startCluster(t)
	run := checkerDuration(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hist := &history{acked: map[string][]string{}, unknown: map[string][]string{}}
	var followers []*view
	for n := 1; n <= 3; n++ {
		v := newView(fmt.Sprintf("streamer on replica %d", n))
		followers = append(followers, v)
		go v.stream(ctx, c, n)
	}
	reader := newView("reader")
	followers = append(followers, reader)
	go reader.pull(ctx, c)
	var writers sync.WaitGroup
	stop := time.Now().Add(run)
	for w := range 3 {
		writers.Add(1)
		go func() { defer writers.Done(); write(ctx, t, c, w, stop, hist) }()
	}
	nemesis(t, c, run)
	writers.Wait()
	final := agreedState(t, c, hist.reached)
	checkHistory(t, final, hist)
	for _, v := range followers {
		v.waitFor(t, final, 60*time.Second)
		if bad := v.regressions(); len(bad) > 0 {
			t.Errorf("%s saw documents go back to older states: %v", v.name, bad)
		}
	}
}

// write pushes to random documents through the replicas in turn until stop; each
// push is retried (same body, so idempotent) on the next replica until it is
// acknowledged, or recorded as unknown if it never is.
func write(ctx context.Context, t *testing.T, c *cluster, w int, stop time.Time, hist *history) {
	client := fmt.Sprintf("writer-%d", w)
	giveUp := stop.Add(90 * time.Second)
	for mid := 1; time.Now().Before(stop); mid++ {
		doc := checkerDocs[rand.IntN(len(checkerDocs))]
		tag := fmt.Sprintf("w%d-%d", w, mid)
		body := fmt.Sprintf(`{"mutations":[{"id":%q,"mid":%d,"set":{"by":%q},"incr":{"hours":1},"add":{"tags":[%q]}}]}`,
			doc, mid, tag, tag)
		ok, position := pushUntilAcked(ctx, t, c, (w+mid)%3+1, client, body, giveUp)
		hist.record(doc, tag, ok, position)
	}
}

// pushUntilAcked reports whether the push was acknowledged before giveUp, and the
// feed position its acknowledgement reported.
func pushUntilAcked(ctx context.Context, t *testing.T, c *cluster, n int, client, body string, giveUp time.Time) (bool, uint64) {
	for ; time.Now().Before(giveUp); n = n%3 + 1 {
		rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		status, out, err := c.push(rctx, n, checkerColl, client, body)
		cancel()
		switch {
		case err == nil && status == 200:
			return true, position(t, out)
		case err == nil && status < 500 && status != 408 && status != 429:
			t.Errorf("push refused with %d: %s", status, out)
			return false, 0
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false, 0
}

// position is the feed position of a push response's checkpoint.
func position(t *testing.T, body string) uint64 {
	var resp struct {
		Checkpoint string `json:"checkpoint"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Errorf("push response %q: %v", body, err)
		return 0
	}
	seq, err := feed.Parse(resp.Checkpoint)
	if err != nil {
		t.Errorf("push response checkpoint %q: %v", resp.Checkpoint, err)
	}
	return seq
}

// nemesisCycle is the longest one round of the nemesis takes: a longer run repeats
// it, so that a run of minutes sees many kills and restarts.
const nemesisCycle = 30 * time.Second

// nemesis kills and restarts replicas and Redis while the writers run.
func nemesis(t *testing.T, c *cluster, run time.Duration) {
	start := time.Now()
	rounds := max(1, int(run/nemesisCycle))
	cycle := run / time.Duration(rounds)
	for i := range rounds {
		nemesisRound(t, c, start.Add(time.Duration(i)*cycle), cycle, start)
	}
	time.Sleep(time.Until(start.Add(run)))
}

// nemesisRound spreads one round of faults over cycle.
func nemesisRound(t *testing.T, c *cluster, round time.Time, cycle time.Duration, start time.Time) {
	steps := []struct {
		at   float64
		args []string
	}{
		{0.15, []string{"kill", "2"}}, {0.35, []string{"start", "2"}}, {0.5, []string{"restart-redis"}},
		{0.65, []string{"kill", "3"}}, {0.8, []string{"start", "3"}},
	}
	for _, s := range steps {
		time.Sleep(time.Until(round.Add(time.Duration(s.at * float64(cycle)))))
		t.Logf("nemesis at %s: %v", time.Since(start).Round(time.Millisecond), s.args)
		if out, err := c.sh(s.args...); err != nil { // say why, then try once more
			logs, _ := c.sh("logs", s.args[len(s.args)-1])
			t.Logf("nemesis %v failed: %v\n%s\nits log:\n%s", s.args, err, out, tail(logs, nil))
			c.mustSh(s.args...)
		}
	}
	time.Sleep(time.Until(round.Add(cycle)))
}

// docState is one document as a client sees it.
type docState struct {
	Version string `json:"version"`
	Deleted bool   `json:"deleted"`
	Doc     struct {
		Hours float64  `json:"hours"`
		Tags  []string `json:"tags"`
		By    string   `json:"by"`
	} `json:"doc"`
	ID string `json:"id"`
}

// pullAll reads replica n's whole collection.
func pullAll(ctx context.Context, c *cluster, n int, checkpoint string) (map[string]docState, string, error) {
	out := map[string]docState{}
	for {
		resp, err := c.request(ctx, n, "GET", "/v1/collections/"+checkerColl+"/pull?checkpoint="+checkpoint, "", "")
		if err != nil {
			return nil, "", err
		}
		var page struct {
			Changes    []docState `json:"changes"`
			Checkpoint string     `json:"checkpoint"`
			HasMore    bool       `json:"hasMore"`
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return nil, "", fmt.Errorf("pull from replica %d: %d %s", n, resp.StatusCode, raw)
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, "", err
		}
		for _, d := range page.Changes {
			out[d.ID] = d
		}
		checkpoint = page.Checkpoint
		if !page.HasMore {
			return out, checkpoint, nil
		}
	}
}

// agreedState pulls every replica, once its feed has passed every acknowledged
// push (a replica killed mid-allocation holds the feed back until its lease ends),
// and checks they hold the same documents.
func agreedState(t *testing.T, c *cluster, reached uint64) map[string]docState {
	t.Helper()
	var states []map[string]docState
	for n := 1; n <= 3; n++ {
		states = append(states, settledPull(t, c, n, reached))
	}
	for n, s := range states[1:] {
		for id, d := range states[0] {
			if s[id].Version != d.Version {
				t.Errorf("replicas 1 and %d disagree on %s: %s vs %s", n+2, id, d.Version, s[id].Version)
			}
		}
		if len(s) != len(states[0]) {
			t.Errorf("replicas 1 and %d hold %d and %d documents", n+2, len(states[0]), len(s))
		}
	}
	return states[0]
}

// settledPull pulls replica n's whole collection once its checkpoint reaches
// reached (within 60 s).
func settledPull(t *testing.T, c *cluster, n int, reached uint64) map[string]docState {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		s, cp, err := pullAll(context.Background(), c, n, "")
		if err != nil {
			t.Fatal(err)
		}
		if seq, err := feed.Parse(cp); err == nil && seq >= reached {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %d's feed did not reach %d within 60 s (at %s)", n, reached, cp)
		}
	}
}

// checkHistory checks counters and sets against what the writers were told.
func checkHistory(t *testing.T, final map[string]docState, hist *history) {
	t.Helper()
	total := 0
	for _, id := range checkerDocs {
		acked, unknown, d := hist.acked[id], hist.unknown[id], final[id].Doc
		total += len(acked)
		if d.Hours < float64(len(acked)) || d.Hours > float64(len(acked)+len(unknown)) {
			t.Errorf("%s: hours %v, want %d acknowledged (+ up to %d unknown)", id, d.Hours, len(acked), len(unknown))
		}
		for _, tag := range acked {
			if !slices.Contains(d.Tags, tag) {
				t.Errorf("%s: acknowledged tag %s missing", id, tag)
			}
		}
		for _, tag := range d.Tags {
			if !slices.Contains(acked, tag) && !slices.Contains(unknown, tag) {
				t.Errorf("%s: tag %s was never written", id, tag)
			}
		}
		if d.By != "" && !slices.Contains(acked, d.By) && !slices.Contains(unknown, d.By) {
			t.Errorf("%s: by %q was never written", id, d.By)
		}
	}
	t.Logf("checker: %d acknowledged pushes", total)
}
