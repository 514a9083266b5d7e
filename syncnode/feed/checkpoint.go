package feed

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// prefix marks checkpoints of format 1.
const prefix = "c1."

// ErrBadCheckpoint reports a checkpoint this server did not issue.
var ErrBadCheckpoint = errors.New("malformed checkpoint")

// Encode returns the opaque checkpoint string of feed position seq.
func Encode(seq uint64) string { return prefix + strconv.FormatUint(seq, 36) }

// Parse decodes a checkpoint; the empty string is the start of the feed.
func Parse(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || rest == "" || len(rest) > 13 {
		return 0, fmt.Errorf("%w: %q", ErrBadCheckpoint, s)
	}
	seq, err := strconv.ParseUint(rest, 36, 64)
	if err != nil || Encode(seq) != s {
		return 0, fmt.Errorf("%w: %q", ErrBadCheckpoint, s)
	}
	return seq, nil
}
