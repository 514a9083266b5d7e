package httpapi

import (
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/lattice-sync/lattice/api/protocol"
)

// limiter keeps one token bucket per caller (Lattice-Client id, or remote address
// without one). Buckets idle for longer than idleAfter are forgotten.
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

// check takes a token for r's caller, or returns a 429 with the wait.
func (l *limiter) check(r *http.Request) error {
	if l == nil {
		return nil
	}
	key := r.Header.Get("Lattice-Client")
	if key == "" {
		key, _, _ = net.SplitHostPort(r.RemoteAddr)
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
		e := errorf(http.StatusTooManyRequests, protocol.CodeRateLimited, "too many requests from %s; retry after %s", key, wait.Round(time.Millisecond))
		e.retryAfter = int(math.Ceil(wait.Seconds()))
		return e
	}
	return nil
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
