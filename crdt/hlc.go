package crdt

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits of the fixed-width HLC encoding of PROTOCOL.md.
const (
	MaxWall    = 999_999_999_999_999 // 15 decimal digits of milliseconds
	MaxCounter = 999_999             // 6 decimal digits
	// MaxActorLen bounds the actor (client id) part of a clock.
	MaxActorLen = 128
)

// HLC is a hybrid logical clock reading: wall milliseconds, a logical counter and the
// actor that produced it. HLCs are totally ordered by (Wall, Counter, Actor).
type HLC struct {
	Wall    int64
	Counter uint32
	Actor   string
}

// ErrBadClock reports a clock string that does not follow PROTOCOL.md.
var ErrBadClock = errors.New("malformed hybrid logical clock")

// IsZero reports whether h is the zero clock, which is below every real clock.
func (h HLC) IsZero() bool { return h.Wall == 0 && h.Counter == 0 && h.Actor == "" }

// Compare returns -1, 0 or +1 as h is less than, equal to or greater than o.
func (h HLC) Compare(o HLC) int {
	switch {
	case h.Wall != o.Wall:
		return cmpInt(h.Wall, o.Wall)
	case h.Counter != o.Counter:
		return cmpInt(h.Counter, o.Counter)
	default:
		return strings.Compare(h.Actor, o.Actor)
	}
}

// Less reports whether h sorts before o.
func (h HLC) Less(o HLC) bool { return h.Compare(o) < 0 }

// String encodes h as "WWWWWWWWWWWWWWW.CCCCCC.actor", a fixed-width prefix that sorts
// lexicographically in clock order.
func (h HLC) String() string {
	b := make([]byte, 0, 23+len(h.Actor))
	return string(h.AppendText(b))
}

// AppendText appends the encoding of String to b.
func (h HLC) AppendText(b []byte) []byte {
	b = appendPadded(b, uint64(h.Wall), 15)
	b = append(b, '.')
	b = appendPadded(b, uint64(h.Counter), 6)
	b = append(b, '.')
	return append(b, h.Actor...)
}

func appendPadded(b []byte, v uint64, width int) []byte {
	var digits [20]byte
	s := strconv.AppendUint(digits[:0], v, 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// ParseHLC decodes the fixed-width string form of a clock.
func ParseHLC(s string) (HLC, error) {
	if len(s) < 24 || s[15] != '.' || s[22] != '.' {
		return HLC{}, fmt.Errorf("%w: %q: want 15 digits, '.', 6 digits, '.', actor", ErrBadClock, s)
	}
	wall, err := parseDigits(s[:15])
	if err != nil {
		return HLC{}, fmt.Errorf("%w: %q: wall time: %v", ErrBadClock, s, err)
	}
	counter, err := parseDigits(s[16:22])
	if err != nil {
		return HLC{}, fmt.Errorf("%w: %q: counter: %v", ErrBadClock, s, err)
	}
	actor := s[23:]
	if err := ValidateActor(actor); err != nil {
		return HLC{}, fmt.Errorf("%w: %q: %v", ErrBadClock, s, err)
	}
	return HLC{Wall: int64(wall), Counter: uint32(counter), Actor: actor}, nil
}

func parseDigits(s string) (uint64, error) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("non-digit %q", c)
		}
		v = v*10 + uint64(c-'0')
	}
	return v, nil
}

// ValidateActor checks a client/actor id: 1–128 characters of [A-Za-z0-9._:-].
func ValidateActor(a string) error {
	if len(a) == 0 || len(a) > MaxActorLen {
		return fmt.Errorf("actor must be 1-%d characters, got %d", MaxActorLen, len(a))
	}
	for i := 0; i < len(a); i++ {
		if !isActorByte(a[i]) {
			return fmt.Errorf("actor has character %q outside [A-Za-z0-9._:-]", a[i])
		}
	}
	return nil
}

func isActorByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == ':' || c == '-'
}

func cmpInt[T int64 | uint32 | uint64 | int](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cmpMutation orders mutations by (client, mid), the order of the per-mutation
// entries that counters and clear marks keep.
func cmpMutation(aClient string, aMid uint64, bClient string, bMid uint64) int {
	if c := strings.Compare(aClient, bClient); c != 0 {
		return c
	}
	return cmpInt(aMid, bMid)
}

// MaxHLC returns the greater of a and b.
func MaxHLC(a, b HLC) HLC {
	if a.Less(b) {
		return b
	}
	return a
}
