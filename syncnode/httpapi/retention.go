package httpapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// seenEvery bounds how often one client's last-seen time is written to the store.
const seenEvery = time.Minute

// maxRemembered bounds the last-seen times a node keeps in memory; past it the
// map starts over (the store still has them).
const maxRemembered = 100_000

// retention tells clients inactive for longer than the retention to reset: their
// checkpoints, splice bases and retries may refer to history compaction has since
// forgotten. A client resets by pulling from scratch (no checkpoint), which also
// makes it active again.
type retention struct {
	clients store.Clients
	keep    time.Duration
	mu      sync.Mutex
	seen    map[string]time.Time // last-seen times this node knows or wrote
	acks    map[string]ackMark   // acknowledgements this node wrote, by actor and collection
}

// ackMark is the last acknowledgement written for one client and collection.
type ackMark struct {
	seq uint64
	at  time.Time
}

func newRetention(clients store.Clients, keep time.Duration) *retention {
	if clients == nil || keep <= 0 {
		return nil
	}
	return &retention{clients: clients, keep: keep, seen: map[string]time.Time{}, acks: map[string]ackMark{}}
}

// check answers 410 client_reset_required for an expired client's request that
// carries old state, and records the client as seen.
//
// Callers check it only once the request is authorised. A client is recorded under
// its actor (bound to the caller p, so no user refreshes or expires another's
// device); a client id that is not valid is not recorded (the push refuses it;
// other requests do not need one).
func (rt *retention) check(r *http.Request, p auth.Principal) error {
	w, err := writerOf(r, p)
	if rt == nil || err != nil {
		return nil
	}
	client, now := w.Actor, time.Now()
	last, known, err := rt.lastSeen(r, client)
	if err != nil {
		return err
	}
	if known && now.Sub(last) > rt.keep && !freshStart(r) {
		return errorf(http.StatusGone, protocol.CodeClientResetRequired,
			"client %s was inactive for longer than the retention (%s): drop local state and pull from scratch", w.Device, rt.keep).
			with("lastSeen", last.UTC().Format(time.RFC3339)).with("retention", rt.keep.String())
	}
	if !known || now.Sub(last) >= seenEvery {
		if err := rt.clients.Seen(r.Context(), client, now); err != nil {
			return err
		}
		rt.mu.Lock()
		if len(rt.seen) >= maxRemembered {
			rt.seen = map[string]time.Time{}
		}
		rt.seen[client] = now
		rt.mu.Unlock()
	}
	return nil
}

func (rt *retention) lastSeen(r *http.Request, client string) (time.Time, bool, error) {
	rt.mu.Lock()
	last, ok := rt.seen[client]
	rt.mu.Unlock()
	if ok {
		return last, true, nil
	}
	return rt.clients.LastSeen(r.Context(), client)
}

// freshStart reports whether r carries no sync state: a pull or stream from scratch.
func freshStart(r *http.Request) bool {
	q := r.URL.Query()
	lp := q.Get("last_pulled_at")
	return r.Method == http.MethodGet && q.Get("checkpoint") == "" && r.Header.Get("Last-Event-ID") == "" &&
		(lp == "" || lp == "0" || lp == "null")
}

// ack records that the caller's client holds collection up to seq: it pulled from
// that checkpoint, so it has everything before it (compaction's horizon,
// docs/compaction.md). At most once every seenEvery per client and collection: an
// older acknowledgement in the store only makes compaction more careful. Requests
// without a valid client id acknowledge nothing.
func (rt *retention) ack(r *http.Request, p auth.Principal, collection string, seq uint64) error {
	w, err := writerOf(r, p)
	if rt == nil || err != nil || seq == 0 {
		return nil
	}
	key, now := w.Actor+"\x00"+collection, time.Now()
	rt.mu.Lock()
	last, ok := rt.acks[key]
	rt.mu.Unlock()
	if ok && (seq <= last.seq || now.Sub(last.at) < seenEvery) {
		return nil
	}
	if err := rt.clients.Acked(r.Context(), w.Actor, collection, seq); err != nil {
		return err
	}
	rt.mu.Lock()
	if len(rt.acks) >= maxRemembered {
		rt.acks = map[string]ackMark{}
	}
	rt.acks[key] = ackMark{seq: seq, at: now}
	rt.mu.Unlock()
	return nil
}
