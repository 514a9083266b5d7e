package feed

import (
	"errors"
	"testing"
)

func TestCheckpointRoundTrip(t *testing.T) {
	for _, seq := range []uint64{0, 1, 35, 36, 1 << 40, 1<<64 - 1} {
		got, err := Parse(Encode(seq))
		if err != nil || got != seq {
			t.Fatalf("%d -> %q -> %d, %v", seq, Encode(seq), got, err)
		}
	}
	if seq, err := Parse(""); err != nil || seq != 0 {
		t.Fatalf("empty checkpoint: %d, %v", seq, err)
	}
}

func TestCheckpointRefusesForeignStrings(t *testing.T) {
	for _, s := range []string{"1", "c1.", "c2.1", "c1.-1", "c1.ZZ", "c1.01", "c1.zzzzzzzzzzzzzz", "c1.1 "} {
		if _, err := Parse(s); !errors.Is(err, ErrBadCheckpoint) {
			t.Errorf("Parse(%q) = %v", s, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("c1.2s")
	f.Fuzz(func(t *testing.T, s string) {
		if seq, err := Parse(s); err == nil && s != "" && Encode(seq) != s {
			t.Fatalf("%q accepted but encodes as %q", s, Encode(seq))
		}
	})
}
