package crdt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrCorrupt reports bytes that are not a valid encoding.
var ErrCorrupt = errors.New("corrupt encoding")

// reader decodes the varint-based binary encodings of this package. The first error
// sticks; later reads return zero values, so decoders check err once per record.
type reader struct {
	b   []byte
	err error
}

func (r *reader) done() bool { return r.err != nil || len(r.b) == 0 }

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrCorrupt, what)
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.fail("truncated")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// count reads a length and checks that at least min*n bytes remain, so a corrupt
// length can never make a decoder allocate more than the input justifies.
func (r *reader) count(minBytesEach int) int {
	n := r.uvarint()
	if r.err != nil {
		return 0
	}
	if minBytesEach < 1 {
		minBytesEach = 1
	}
	if n > uint64(len(r.b)/minBytesEach) {
		r.fail("length exceeds input")
		return 0
	}
	return int(n)
}

func (r *reader) bytes() []byte {
	n := r.count(1)
	if r.err != nil {
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) string() string { return string(r.bytes()) }

func (r *reader) float() float64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.fail("truncated float")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b []byte, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// appendHLC writes h with its actor as an index into a table the caller keeps.
func appendHLC(b []byte, h HLC, actorIndex uint64) []byte {
	b = binary.AppendUvarint(b, uint64(h.Wall))
	b = binary.AppendUvarint(b, uint64(h.Counter))
	return binary.AppendUvarint(b, actorIndex)
}

// appendHLCBelow writes h like appendHLC, its wall as a signed distance below base.
func appendHLCBelow(b []byte, h HLC, base int64, actorIndex uint64) []byte {
	b = binary.AppendVarint(b, base-h.Wall)
	b = binary.AppendUvarint(b, uint64(h.Counter))
	return binary.AppendUvarint(b, actorIndex)
}

// hlc reads a clock written by appendHLC, resolving the actor through actors.
func (r *reader) hlc(actors []string) HLC { return r.hlcWithWall(r.uvarint(), actors) }

// hlcBelow reads a clock written by appendHLCBelow with the same base.
func (r *reader) hlcBelow(base int64, actors []string) HLC {
	below := r.varint()
	wall := base - below
	if r.err == nil && (below > 0) != (wall < base) { // the subtraction overflowed
		r.fail("clock out of range")
	}
	return r.hlcWithWall(uint64(wall), actors) // a negative wall fails the range check
}

// hlcWithWall reads the rest of a clock whose wall was read already.
func (r *reader) hlcWithWall(wall uint64, actors []string) HLC {
	counter := r.uvarint()
	idx := r.uvarint()
	if r.err != nil {
		return HLC{}
	}
	if wall > MaxWall || counter > MaxCounter || idx >= uint64(len(actors)) {
		r.fail("clock out of range")
		return HLC{}
	}
	return HLC{Wall: int64(wall), Counter: uint32(counter), Actor: actors[idx]}
}
