package crdt

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestHLCStringSortsLikeCompare(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	actors := []string{"a", "ab", "b", "tablet-7", "Z", "z:1"}
	var hs []HLC
	for i := 0; i < 500; i++ {
		hs = append(hs, HLC{Wall: rng.Int64N(3) + 1763719200000, Counter: uint32(rng.IntN(3)), Actor: actors[rng.IntN(len(actors))]})
	}
	for _, a := range hs {
		for _, b := range hs[:50] {
			want := a.Compare(b)
			got := strings.Compare(a.String(), b.String())
			if got != want {
				t.Fatalf("%s vs %s: Compare %d, string order %d", a, b, want, got)
			}
		}
	}
}

func TestParseHLC(t *testing.T) {
	good := []struct {
		in   string
		want HLC
	}{
		{"001763719200000.000003.tablet-7", HLC{1763719200000, 3, "tablet-7"}},
		{"999999999999999.999999.a", HLC{MaxWall, MaxCounter, "a"}},
		{"000000000000000.000000.x_y:z.1", HLC{0, 0, "x_y:z.1"}},
	}
	for _, g := range good {
		got, err := ParseHLC(g.in)
		if err != nil || got != g.want {
			t.Errorf("ParseHLC(%q) = %v, %v; want %v", g.in, got, err, g.want)
		}
		if got.String() != g.in {
			t.Errorf("round trip %q -> %q", g.in, got.String())
		}
	}
	bad := []string{"", "1763719200000.3.a", "001763719200000.000003.", "001763719200000.000003",
		"00176371920000x.000003.a", "001763719200000-000003.a", "001763719200000.00000a.a",
		"001763719200000.000003.a b", "001763719200000.000003.ä", "-01763719200000.000003.a"}
	for _, b := range bad {
		if _, err := ParseHLC(b); !errors.Is(err, ErrBadClock) {
			t.Errorf("ParseHLC(%q) error = %v, want ErrBadClock", b, err)
		}
	}
}

func TestClockNowIsMonotonic(t *testing.T) {
	c := Clock{Actor: "srv"}
	walls := []int64{100, 100, 99, 150, 150, 10}
	var got []HLC
	for _, w := range walls {
		got = append(got, c.Now(w))
	}
	if !slices.IsSortedFunc(got, HLC.Compare) {
		t.Fatalf("not increasing: %v", got)
	}
	if got[1] != (HLC{100, 1, "srv"}) || got[3] != (HLC{150, 0, "srv"}) {
		t.Fatalf("unexpected readings %v", got)
	}
}

func TestClockCounterOverflowCarriesIntoWall(t *testing.T) {
	c := Clock{Actor: "a"}
	c.Receive(HLC{Wall: 5, Counter: MaxCounter, Actor: "b"}, 5)
	if got := c.Now(5); got != (HLC{6, 0, "a"}) {
		t.Fatalf("got %v", got)
	}
}

func TestClockReceive(t *testing.T) {
	tests := []struct {
		name    string
		policy  SkewPolicy
		remote  HLC
		wantErr bool
		wantOut HLC
	}{
		{"within bound", SkewReject, HLC{1500, 0, "dev"}, false, HLC{1500, 0, "dev"}},
		{"behind", SkewReject, HLC{10, 4, "dev"}, false, HLC{10, 4, "dev"}},
		{"ahead rejected", SkewReject, HLC{99999, 0, "dev"}, true, HLC{}},
		{"ahead clamped", SkewClamp, HLC{99999, 0, "dev"}, false, HLC{1000, 0, "srv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Clock{Actor: "srv", MaxAheadMillis: 1000, Policy: tt.policy}
			got, err := c.Receive(tt.remote, 1000)
			if (err != nil) != tt.wantErr || (err != nil && !errors.Is(err, ErrClockAhead)) {
				t.Fatalf("err = %v", err)
			}
			if got != tt.wantOut {
				t.Fatalf("got %v, want %v", got, tt.wantOut)
			}
			if next := c.Now(0); !got.Less(next) {
				t.Fatalf("next local clock %v is not after %v", next, got)
			}
		})
	}
}

func TestClockAfterExceedsFloor(t *testing.T) {
	c := Clock{Actor: "srv"}
	floor := HLC{Wall: 5000, Counter: 7, Actor: "zzz"}
	if got := c.After(floor, 1000); !floor.Less(got) {
		t.Fatalf("After(%v) = %v", floor, got)
	}
}

func TestVersionStringRoundTrip(t *testing.T) {
	vs := []VersionVector{{}, {"a": 1}, {"tablet-7": 17, "anna": 3, "b": 1 << 40}}
	for _, v := range vs {
		s := v.VersionString()
		back, err := ParseVersion(s)
		if err != nil || !back.Equal(v) {
			t.Fatalf("%v -> %q -> %v, %v", v, s, back, err)
		}
	}
	if (VersionVector{"a": 1, "b": 2}).VersionString() != (VersionVector{"b": 2, "a": 1, "c": 0}).VersionString() {
		t.Fatal("equal vectors give different strings")
	}
	for _, bad := range []string{"x", "v1.!!", "v2.AA", "v1.AQ"} {
		if _, err := ParseVersion(bad); !errors.Is(err, ErrBadVersion) {
			t.Errorf("ParseVersion(%q) = %v", bad, err)
		}
	}
}

func FuzzParseVersion(f *testing.F) {
	f.Add("v1." + "AWEB")
	f.Add((VersionVector{"anna": 3}).VersionString())
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVersion(s)
		if err == nil {
			if again, err := ParseVersion(v.VersionString()); err != nil || !again.Equal(v) {
				t.Fatalf("re-encoding %q failed: %v", s, err)
			}
		}
	})
}

func FuzzParseHLC(f *testing.F) {
	f.Add("001763719200000.000003.tablet-7")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHLC(s)
		if err == nil && h.String() != s {
			t.Fatalf("%q parses to %v which prints %q", s, h, h.String())
		}
	})
}
