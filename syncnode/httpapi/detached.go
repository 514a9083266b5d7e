package httpapi

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// A detached stream owns its connection and no goroutine while it is idle: once the
// handler has sent the backlog and joined the tails, it returns, and the
// connection lives on as a small struct. When the tails queue pages (or a ping is
// due), a short-lived goroutine writes them and exits. An idle stream so costs its
// socket and a few hundred bytes instead of a goroutine stack and net/http's
// buffers (BENCHMARKS.md, memory per idle stream). Streams over HTTP/2 cannot be
// taken over and keep a goroutine (serveStream).

// detached is one stream detached from its handler.
type detached struct {
	s       *sseStream
	conn    net.Conn
	api     *API
	release func()
	// busy is held by whoever writes: the handler until the stream is open, then
	// one flusher goroutine at a time.
	busy    atomic.Bool
	pingDue atomic.Bool
	cut     atomic.Bool
	closed  atomic.Bool
	once    sync.Once
	// expiry ends the stream when the client's token expires.
	expiry atomic.Pointer[time.Timer]
	// watched is the reaper's token (0: not watched).
	watched atomic.Uint64
}

// connOut writes straight to the taken-over connection.
type connOut struct{ conn net.Conn }

func (o connOut) write(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	_ = o.conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	_, err := o.conn.Write(b)
	return err
}

// writeEvent sends the three parts in one writev.
func (o connOut) writeEvent(head, data []byte) error {
	_ = o.conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	bufs := net.Buffers{head, data, eventEnd}
	_, err := bufs.WriteTo(o.conn)
	return err
}

// detach takes the connection over from net/http, or returns nil when it cannot
// (HTTP/2, or a ResponseWriter that does not allow it).
func (a *API) detach(w http.ResponseWriter, s *sseStream, release func()) *detached {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil
	}
	_ = conn.SetDeadline(time.Time{})
	d := &detached{s: s, conn: conn, api: a, release: release}
	d.busy.Store(true)
	s.out = connOut{conn: conn}
	s.fl = a.feeds.NewFollower(d.schedule, d.onCut)
	d.header(w.Header())
	return d
}

// header writes the response head: the headers already set on the ResponseWriter
// (by middleware) and an event stream's, delimited by closing the connection.
func (d *detached) header(h http.Header) {
	setSSEHeaders(h)
	h.Set("Connection", "close")
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(&b)
	b.WriteString("\r\nretry: " + strconv.Itoa(d.s.format.retryMillis) + "\n\n")
	if err := d.s.out.write(b.Bytes()); err != nil {
		d.closed.Store(true)
	}
}

// start sends the first event and the backlog and joins the tails, in the
// handler's goroutine; then the stream is registered and the handler may return.
func (d *detached) start(ctx context.Context, first func(map[string]uint64) ([]byte, error), expires time.Time) {
	if d.closed.Load() {
		d.close()
		return
	}
	if err := d.s.open(ctx, first); err != nil {
		d.s.ended(ctx, err)
		d.close()
		return
	}
	if !d.api.register(d) {
		d.close()
		return
	}
	if !expires.IsZero() {
		d.expire(expires)
	}
	d.watched.Store(streamReaper.watch(d))
	if d.idle() {
		go d.flush()
	}
}

// expire ends the stream at t (the token's expiry): the client reconnects with a
// fresh token.
func (d *detached) expire(t time.Time) {
	d.expiry.Store(time.AfterFunc(time.Until(t), d.close))
	if d.closed.Load() { // closed meanwhile: do not keep the stream alive in a timer
		d.expiry.Load().Stop()
	}
}

// schedule makes sure a flusher runs (the follower calls it when pages arrive).
func (d *detached) schedule() {
	if d.busy.CompareAndSwap(false, true) {
		go d.flush()
	}
}

// onCut is called, under a tail's lock, when the stream fell too far behind: it
// unblocks any write and lets a flusher finish the stream.
func (d *detached) onCut() {
	d.cut.Store(true)
	_ = d.conn.Close()
	d.schedule()
}

// flush writes what is due until nothing is, then exits.
func (d *detached) flush() {
	for {
		if err := d.flushOnce(); err != nil {
			d.close()
			return
		}
		if !d.idle() {
			return
		}
	}
}

// idle releases busy; it reports true if more became due meanwhile and this
// caller took busy again to write it.
func (d *detached) idle() bool {
	d.busy.Store(false)
	if d.s.fl.Queued() == 0 && !d.pingDue.Load() && !d.cut.Load() && !d.closed.Load() {
		return false
	}
	return d.busy.CompareAndSwap(false, true)
}

// errStreamEnded ends a flush without a write error.
type errStreamEnded struct{}

func (errStreamEnded) Error() string { return "stream ended" }

func (d *detached) flushOnce() error {
	switch {
	case d.closed.Load():
		return errStreamEnded{}
	case d.cut.Load():
		d.api.cutStream(context.Background())
		return errStreamEnded{}
	}
	if err := d.s.deliverQueued(context.Background()); err != nil {
		return err
	}
	if d.pingDue.Swap(false) {
		return d.s.out.write(pingLine)
	}
	return nil
}

// close ends the stream once: the connection, the follower, the stream's count.
func (d *detached) close() {
	d.once.Do(func() {
		d.closed.Store(true)
		if t := d.expiry.Load(); t != nil {
			t.Stop()
		}
		sc, _ := d.conn.(syscall.Conn)
		streamReaper.forget(d.watched.Load(), sc)
		_ = d.conn.Close()
		d.s.fl.Close()
		d.api.unregister(d)
		d.release()
	})
}

// detachedSet is the node's detached streams, for pings and drain.
type detachedSet struct {
	mu      sync.Mutex
	streams map[*detached]struct{}
	pinger  sync.Once
	drained bool
}

// register adds d; false once the node drains.
func (a *API) register(d *detached) bool {
	ds := &a.detached
	ds.pinger.Do(func() { go a.pingDetached() })
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.drained {
		return false
	}
	if ds.streams == nil {
		ds.streams = map[*detached]struct{}{}
	}
	ds.streams[d] = struct{}{}
	return true
}

func (a *API) unregister(d *detached) {
	a.detached.mu.Lock()
	defer a.detached.mu.Unlock()
	delete(a.detached.streams, d)
}

// snapshotDetached returns the detached streams (and, with drain, stops taking
// new ones).
func (a *API) snapshotDetached(drain bool) []*detached {
	ds := &a.detached
	ds.mu.Lock()
	defer ds.mu.Unlock()
	ds.drained = ds.drained || drain
	out := make([]*detached, 0, len(ds.streams))
	for d := range ds.streams {
		out = append(out, d)
	}
	return out
}

// pingDetached sends every detached stream a comment line each pingEvery; a
// client that went away is noticed then, when the write fails.
func (a *API) pingDetached() {
	t := time.NewTicker(pingEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-a.drain:
			return
		}
		for _, d := range a.snapshotDetached(false) {
			d.pingDue.Store(true)
			d.schedule()
		}
	}
}

// drainDetached ends every detached stream (the node is shutting down).
func (a *API) drainDetached() {
	for _, d := range a.snapshotDetached(true) {
		d.close()
	}
}
