package traces_test

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/crdt/traces"
)

var (
	cacheMu sync.Mutex
	cache   = map[string]*traces.Trace{}
)

// load returns the named trace from crdt/testdata/traces, parsed once per test binary.
func load(tb testing.TB, name string) *traces.Trace {
	tb.Helper()
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if t, ok := cache[name]; ok {
		return t
	}
	t, err := traces.Load(filepath.Join("..", "testdata", "traces", name+".json.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	cache[name] = t
	return t
}

func TestSequentialTraces(t *testing.T) {
	for _, name := range []string{"automerge-paper", "seph-blog1"} {
		t.Run(name, func(t *testing.T) {
			tr := load(t, name)
			s, err := traces.ReplaySequential(tr)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Text(crdt.HLC{}); got != tr.EndContent {
				t.Fatalf("content differs from endContent: got %d bytes, want %d", len(got), len(tr.EndContent))
			}
			checkRoundTrip(t, s, tr.EndContent)
		})
	}
}

func TestConcurrentTraces(t *testing.T) {
	for _, name := range []string{"friendsforever", "clownschool"} {
		t.Run(name, func(t *testing.T) {
			tr := load(t, name)
			s, err := traces.ReplayConcurrent(tr)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Text(crdt.HLC{}); got != tr.EndContent {
				t.Fatalf("content differs from endContent:\n got %.200q\nwant %.200q", got, tr.EndContent)
			}
			checkRoundTrip(t, s, tr.EndContent)
		})
	}
}

// checkRoundTrip checks the encoding round trip and that compaction keeps the text and
// shrinks the encoding.
func checkRoundTrip(t *testing.T, s *crdt.Sequence, want string) {
	t.Helper()
	enc := s.AppendBinary(nil)
	d, err := crdt.DecodeSequence(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Equal(s) || string(d.AppendBinary(nil)) != string(enc) {
		t.Fatal("decoded sequence differs")
	}
	d.Compact(crdt.Horizon{Seen: crdt.VersionVector{"a": 1 << 40, "agent0": 1 << 40, "agent1": 1 << 40, "agent2": 1 << 40}})
	if got := d.Text(crdt.HLC{}); got != want {
		t.Fatal("compaction changed the text")
	}
	small := d.AppendBinary(nil)
	t.Logf("encoded %d bytes, compacted %d bytes, text %d bytes", len(enc), len(small), len(want))
	if len(small) >= len(enc) {
		t.Fatalf("compaction did not shrink the encoding: %d >= %d", len(small), len(enc))
	}
}
