package crdt

import (
	"errors"
	"fmt"
)

// SkewPolicy says what a Clock does with a received clock that runs further ahead of
// local wall time than the configured bound.
type SkewPolicy int

const (
	// SkewReject refuses the clock with ErrClockAhead.
	SkewReject SkewPolicy = iota
	// SkewClamp replaces the clock with a fresh local reading that is still greater
	// than everything the Clock has seen, so the write loses to later local writes
	// instead of winning every conflict until the future arrives.
	SkewClamp
)

// ErrClockAhead reports a received clock beyond the configured skew bound.
var ErrClockAhead = errors.New("clock too far ahead of server time")

// Clock generates and receives HLC readings for one actor. It never reads the wall
// clock itself: callers pass the current wall time in milliseconds.
type Clock struct {
	// Actor is the id stamped into generated clocks.
	Actor string
	// MaxAheadMillis bounds how far a received clock may run ahead of wall time;
	// zero means unbounded.
	MaxAheadMillis int64
	// Policy is applied to clocks beyond MaxAheadMillis.
	Policy SkewPolicy
	last   HLC
}

// Last returns the greatest clock generated or received so far.
func (c *Clock) Last() HLC { return c.last }

// Now returns a fresh clock greater than every clock seen so far.
func (c *Clock) Now(wallMillis int64) HLC {
	next := HLC{Wall: wallMillis, Actor: c.Actor}
	if wallMillis <= c.last.Wall {
		next.Wall = c.last.Wall
		next.Counter = c.last.Counter + 1
		if next.Counter > MaxCounter {
			next.Wall++
			next.Counter = 0
		}
	}
	c.last = next
	return next
}

// After returns a fresh clock greater than both every clock seen so far and floor.
func (c *Clock) After(floor HLC, wallMillis int64) HLC {
	c.observe(floor)
	return c.Now(wallMillis)
}

// Receive accepts a remote clock: it checks the skew bound, applies the policy and
// advances the local clock past it. It returns the clock to use for the remote write.
func (c *Clock) Receive(remote HLC, wallMillis int64) (HLC, error) {
	if c.MaxAheadMillis > 0 && remote.Wall > wallMillis+c.MaxAheadMillis {
		if c.Policy == SkewReject {
			return HLC{}, fmt.Errorf("%w: %s is %d ms ahead, bound is %d ms",
				ErrClockAhead, remote, remote.Wall-wallMillis, c.MaxAheadMillis)
		}
		return c.Now(wallMillis), nil
	}
	c.observe(remote)
	return remote, nil
}

func (c *Clock) observe(h HLC) {
	if c.last.Wall < h.Wall || (c.last.Wall == h.Wall && c.last.Counter < h.Counter) {
		c.last = HLC{Wall: h.Wall, Counter: h.Counter, Actor: c.Actor}
	}
}
