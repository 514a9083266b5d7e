package fanout

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// eventField is the stream entry field that holds an event's JSON.
const eventField = "e"

// readCount is the most entries one XREAD returns. It must not exceed MaxLen: the
// trim check (checkTrimmed) relies on it.
const readCount = 512

// readLoop follows the stream until ctx ends.
func (b *RedisBus) readLoop(ctx context.Context) {
	r := &streamReader{bus: b, count: min(readCount, b.cfg.MaxLen)}
	wait := time.Duration(0)
	for ctx.Err() == nil {
		err := r.step(ctx)
		if err == nil {
			if wait > 0 {
				b.cfg.Logger.Info("redis fanout: reading events again", "stream", b.key)
			}
			wait = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		b.stats.Errors.Add(1)
		b.health.set(&b.health.read, err)
		if wait == 0 {
			b.cfg.Logger.Warn("redis fanout: cannot read events; streams poll the store until it is back",
				"stream", b.key, "err", err)
		}
		wait = b.backoff(wait)
		sleep(ctx, wait)
	}
}

// streamReader is the reader's position in the stream.
type streamReader struct {
	bus *RedisBus
	// last is the id of the last entry read ("" before the first connection).
	last string
	// seen is the connection count last positioned for.
	seen int64
	// broken is set by an error: the next step repositions and resyncs.
	broken bool
	count  int64
}

// step reads one batch of entries (or waits up to Block for one). After an error,
// and whenever the connection was re-established, it first repositions and has
// the subscribers resync.
func (r *streamReader) step(ctx context.Context) error {
	b := r.bus
	if c := b.connects.Load(); r.broken || c != r.seen || r.last == "" {
		if err := r.reposition(ctx); err != nil {
			r.broken = true
			return err
		}
		r.seen, r.broken = b.connects.Load(), false
		b.health.set(&b.health.read, nil)
		b.resync()
	}
	res, err := b.reader.XRead(ctx, &redis.XReadArgs{
		Streams: []string{b.key, r.last}, Count: r.count, Block: b.cfg.Block}).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		r.broken = true
		return fmt.Errorf("XREAD %s: %w", b.key, err)
	}
	before := r.last
	for _, s := range res {
		r.deliver(s.Messages)
	}
	if n := countMessages(res); int64(n) >= r.count {
		if err := r.checkTrimmed(ctx, before); err != nil {
			r.broken = true
			return err
		}
	}
	return nil
}

// reposition finds where to read from after (re)connecting: the stream's end on
// the first connection; after a reconnection, the same id unless the stream is new
// (Redis restarted empty, or its ids went backwards), then its beginning. Events
// missed meanwhile are covered by the resync that follows.
func (r *streamReader) reposition(ctx context.Context) error {
	if err := r.bus.reader.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("PING: %w", err)
	}
	info, err := r.bus.reader.XInfoStream(ctx, r.bus.key).Result()
	switch {
	case err != nil && strings.Contains(err.Error(), "no such key"):
		r.last = "0-0"
	case err != nil:
		return fmt.Errorf("XINFO STREAM %s: %w", r.bus.key, err)
	case r.last == "":
		r.last = info.LastGeneratedID
	case compareIDs(info.LastGeneratedID, r.last) < 0:
		r.last = "0-0"
	}
	return nil
}

// checkTrimmed resyncs when entries after before may have been trimmed unread:
// trimming removes the oldest entries first, so if one after before went, the
// stream's first entry is now after before too (the converse, everything up to
// exactly before trimmed, resyncs needlessly: harmless). A batch shorter than
// count needs no check: trimming leaves at least MaxLen >= count entries, so once
// an entry after before is trimmed, all that remain are after it and a read
// returns a full batch.
func (r *streamReader) checkTrimmed(ctx context.Context, before string) error {
	first, err := r.bus.reader.XRangeN(ctx, r.bus.key, "-", "+", 1).Result()
	if err != nil {
		return fmt.Errorf("XRANGE %s: %w", r.bus.key, err)
	}
	if len(first) > 0 && compareIDs(first[0].ID, before) > 0 {
		r.bus.cfg.Logger.Warn("redis fanout: events may have been trimmed before this node read them; streams catch up from the store",
			"stream", r.bus.key, "maxLen", r.bus.cfg.MaxLen)
		r.bus.resync()
	}
	return nil
}

// deliver hands other nodes' events to the subscribers.
func (r *streamReader) deliver(msgs []redis.XMessage) {
	b := r.bus
	for _, m := range msgs {
		r.last = m.ID
		e, err := decodeEntry(m.Values)
		if err != nil {
			b.cfg.Logger.Warn("redis fanout: skipping an entry that is not an event; streams catch up from the store",
				"stream", b.key, "id", m.ID, "err", err)
			b.resync()
			continue
		}
		if e.Origin == b.origin {
			continue
		}
		b.stats.Received.Add(1)
		if e.At > 0 {
			b.stats.LagMillis.Store(time.Now().UnixMilli() - e.At)
		}
		if e.Resync {
			b.stats.Resyncs.Add(1)
		}
		b.local.deliver(e)
	}
}

// resync tells this node's subscribers to catch up from the store.
func (b *RedisBus) resync() {
	b.stats.Resyncs.Add(1)
	b.local.deliver(Event{Resync: true, Local: true, At: time.Now().UnixMilli()})
}

func countMessages(res []redis.XStream) int {
	n := 0
	for _, s := range res {
		n += len(s.Messages)
	}
	return n
}

// decodeEntry parses a stream entry written by Publish.
func decodeEntry(values map[string]any) (Event, error) {
	raw, ok := values[eventField].(string)
	if !ok {
		return Event{}, fmt.Errorf("no %q field", eventField)
	}
	return DecodeEvent([]byte(raw))
}

// DecodeEvent parses an event's JSON as written to the stream, refusing anything
// that is not one.
func DecodeEvent(raw []byte) (Event, error) {
	var e Event
	if err := json.Unmarshal(raw, &e); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	if e.Collection == "" && !e.Resync {
		return Event{}, errors.New("decode event: no collection")
	}
	return e, nil
}

// compareIDs orders two stream ids ("ms-seq"); an id that does not parse counts as
// "0-0".
func compareIDs(a, b string) int {
	am, as := parseID(a)
	bm, bs := parseID(b)
	if c := cmp.Compare(am, bm); c != 0 {
		return c
	}
	return cmp.Compare(as, bs)
}

func parseID(id string) (ms, seq uint64) {
	l, r, _ := strings.Cut(id, "-")
	ms, err1 := strconv.ParseUint(l, 10, 64)
	seq, err2 := strconv.ParseUint(r, 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return ms, seq
}

// writeLoop adds queued events to the stream until ctx ends. A batch that fails is
// dropped and a resync event is owed, written first once Redis answers again.
func (b *RedisBus) writeLoop(ctx context.Context) {
	wait := time.Duration(0)
	for {
		batch, ok := b.nextBatch(ctx, wait > 0 || b.lost.Load())
		if !ok {
			return
		}
		err := b.write(ctx, batch)
		if err == nil {
			wait = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		b.stats.Errors.Add(1)
		if wait == 0 {
			b.cfg.Logger.Warn("redis fanout: cannot publish events; other nodes poll the store until it is back",
				"stream", b.key, "err", err)
		}
		wait = b.backoff(wait)
		sleep(ctx, wait)
	}
}

// nextBatch waits for queued events (or, when retry is set, not longer than the
// minimum backoff, so an owed resync is written even if nothing else is published)
// and takes up to 256 of them.
func (b *RedisBus) nextBatch(ctx context.Context, retry bool) ([]Event, bool) {
	var tick <-chan time.Time
	if retry {
		t := time.NewTimer(b.cfg.MinBackoff)
		defer t.Stop()
		tick = t.C
	}
	batch := make([]Event, 0, 16)
	select {
	case e := <-b.queue:
		batch = append(batch, e)
	case <-tick:
	case <-ctx.Done():
		return nil, false
	}
	for len(batch) < 256 {
		select {
		case e := <-b.queue:
			batch = append(batch, e)
		default:
			return batch, true
		}
	}
	return batch, true
}

// write XADDs batch in one pipeline, preceded by a resync event when one is owed.
func (b *RedisBus) write(ctx context.Context, batch []Event) error {
	owed := b.lost.Swap(false)
	if owed {
		batch = append([]Event{{Resync: true, Origin: b.origin, At: time.Now().UnixMilli()}}, batch...)
	}
	if len(batch) == 0 {
		return nil
	}
	pipe := b.writer.Pipeline()
	for _, e := range batch {
		raw, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: b.key, MaxLen: b.cfg.MaxLen, Approx: true,
			Values: []string{eventField, string(raw)}})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.lost.Store(true)
		b.stats.Dropped.Add(int64(len(batch)))
		b.health.set(&b.health.write, err)
		return fmt.Errorf("XADD %s: %w", b.key, err)
	}
	b.stats.Published.Add(int64(len(batch)))
	b.health.set(&b.health.write, nil)
	if owed {
		b.cfg.Logger.Info("redis fanout: publishing again; told other nodes to resync", "stream", b.key)
	}
	return nil
}
