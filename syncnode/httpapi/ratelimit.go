package httpapi

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/auth"
)

// limiter keeps one token bucket per key (callerKey: the token's subject; the
// client id or the address when there is no authentication; or, before
// authentication, the address). Buckets idle for longer than idleAfter are
// forgotten.
type limiter struct {
	mu      sync.Mutex
	rps     rate.Limit
	burst   int
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

const idleAfter = 10 * time.Minute

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	return &limiter{rps: rate.Limit(perSecond), burst: max(burst, 1), buckets: map[string]*bucket{}, swept: time.Now()}
}

// check takes a token for key, or returns a 429 with the wait.
func (l *limiter) check(key string) error {
	if l == nil {
		return nil
	}
	now := time.Now()
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(l.rps, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	l.sweep(now)
	l.mu.Unlock()
	if wait := res.DelayFrom(now); wait > 0 {
		res.CancelAt(now)
		e := errorf(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many requests; retry after %s", wait.Round(time.Millisecond))
		e.retryAfter = int(math.Ceil(wait.Seconds()))
		return e
	}
	return nil
}

// callerKey is whom a request is counted against: the token's subject (a user
// cannot escape the limit with new client ids, nor lock another user out with
// theirs); without authentication, the client id or else the address.
func callerKey(r *http.Request, p auth.Principal) string {
	if p.Subject != "" && p.Subject != auth.AnonymousSubject {
		return "sub:" + p.Subject
	}
	if c := r.Header.Get(clientHeader); c != "" && crdt.ValidateActor(c) == nil {
		return "client:" + c
	}
	return addressKey(r)
}

// addressKey is the remote address's host, for limits before authentication.
func addressKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}

func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < idleAfter {
		return
	}
	for k, b := range l.buckets {
		if now.Sub(b.seen) > idleAfter {
			delete(l.buckets, k)
		}
	}
	l.swept = now
}
