// Command textbench replays the automerge-paper editing trace with Lattice's sequence
// CRDT (one splice per patch; a warm-up run, then the best of 5), then with Yjs and Automerge through
// test/bench/text-trace.mjs (running npm ci first when node_modules is missing), and
// prints the three times and the ratios from the same run.
//
//	go run ./test/bench/textbench [-runs 5] [-trace path] [-node=false]
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/crdt/traces"
)

// nodeResult is one library's figures from text-trace.mjs.
type nodeResult struct {
	Ms           float64 `json:"ms"`
	Runs         int     `json:"runs"`
	EncodedBytes int64   `json:"encodedBytes"`
}

// nodeReport is the JSON text-trace.mjs prints.
type nodeReport struct {
	Node      string     `json:"node"`
	Yjs       nodeResult `json:"yjs"`
	Automerge nodeResult `json:"automerge"`
}

func main() {
	runs := flag.Int("runs", 5, "Lattice replays; the best time counts")
	trace := flag.String("trace", "", "trace file (default crdt/testdata/traces/automerge-paper.json.gz)")
	withNode := flag.Bool("node", true, "also run Yjs and Automerge through Node")
	flag.Parse()
	if err := run(*runs, *trace, *withNode); err != nil {
		fmt.Fprintln(os.Stderr, "textbench:", err)
		os.Exit(1)
	}
}

func run(runs int, trace string, withNode bool) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if trace == "" {
		trace = filepath.Join(root, "crdt", "testdata", "traces", "automerge-paper.json.gz")
	}
	tr, err := traces.Load(trace)
	if err != nil {
		return err
	}
	best, heap, enc, err := replayLattice(tr, runs)
	if err != nil {
		return err
	}
	fmt.Printf("trace %s: %d patches, %d code points at the end\n", filepath.Base(trace), len(tr.Txns), len([]rune(tr.EndContent)))
	fmt.Printf("%-10s %10.2f ms  (best of %d)  heap %7.2f MB  encoded %7.1f KB\n",
		"lattice", ms(best), runs, mb(heap), kb(enc))
	if !withNode {
		return nil
	}
	rep, err := runNode(root, trace)
	if err != nil {
		return err
	}
	for _, r := range []struct {
		name string
		res  nodeResult
	}{{"yjs", rep.Yjs}, {"automerge", rep.Automerge}} {
		fmt.Printf("%-10s %10.2f ms  (best of %d)                 encoded %7.1f KB  %6.1fx lattice's time\n",
			r.name, r.res.Ms, r.res.Runs, kb(int(r.res.EncodedBytes)), r.res.Ms/ms(best))
	}
	fmt.Printf("(node %s; lattice heap: live heap of the final sequence)\n", rep.Node)
	return nil
}

// replayLattice replays tr once to warm up, then runs times, and returns the best time,
// the heap the final sequence holds and its encoded size.
func replayLattice(tr *traces.Trace, runs int) (time.Duration, uint64, int, error) {
	ops := tr.Ops()
	if err := traces.ApplySequential(crdt.NewSequence(crdt.SeqText), ops); err != nil {
		return 0, 0, 0, err
	}
	best := time.Duration(1<<63 - 1)
	var s *crdt.Sequence
	var heap uint64
	for i := 0; i < max(runs, 1); i++ {
		s = nil
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		s = crdt.NewSequence(crdt.SeqText)
		if err := traces.ApplySequential(s, ops); err != nil {
			return 0, 0, 0, err
		}
		best = min(best, time.Since(start))
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
	}
	if s.Text(crdt.HLC{}) != tr.EndContent {
		return 0, 0, 0, errors.New("lattice: final content differs from endContent")
	}
	return best, heap, len(s.AppendBinary(nil)), nil
}

// runNode runs text-trace.mjs, installing its dependencies first if needed.
func runNode(root, trace string) (*nodeReport, error) {
	dir := filepath.Join(root, "test", "bench")
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); errors.Is(err, os.ErrNotExist) {
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("npm ci in %s: %w", dir, err)
		}
	}
	var out bytes.Buffer
	cmd := exec.Command("node", "--expose-gc", "text-trace.mjs", trace)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("node text-trace.mjs: %w", err)
	}
	var rep nodeReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		return nil, fmt.Errorf("parse text-trace.mjs output %q: %w", out.String(), err)
	}
	return &rep, nil
}

// repoRoot finds the directory holding go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(b uint64) float64        { return float64(b) / (1 << 20) }
func kb(b int) float64           { return float64(b) / 1024 }
