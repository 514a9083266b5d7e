// Package traces loads the standard text-editing traces (josephg/editing-traces
// format) and replays them through the sequence CRDT of package crdt: sequential
// traces as one splice per patch, concurrent traces through per-agent branches that
// fork, splice against their parents' version and merge.
package traces

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/lattice-sync/lattice/crdt"
)

// Patch is one edit: at Pos, delete Del code points, then insert Ins.
type Patch struct {
	Pos, Del int
	Ins      string
}

// UnmarshalJSON decodes the trace form [pos, numDeleted, "inserted"].
func (p *Patch) UnmarshalJSON(b []byte) error {
	var raw [3]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("patch %s: %w", b, err)
	}
	if err := json.Unmarshal(raw[0], &p.Pos); err != nil {
		return fmt.Errorf("patch position: %w", err)
	}
	if err := json.Unmarshal(raw[1], &p.Del); err != nil {
		return fmt.Errorf("patch delete count: %w", err)
	}
	if err := json.Unmarshal(raw[2], &p.Ins); err != nil {
		return fmt.Errorf("patch insert: %w", err)
	}
	return nil
}

// Txn is one transaction: its patches apply one after another. Concurrent traces give
// the parent transactions (indices) and the agent that made it.
type Txn struct {
	Parents []int   `json:"parents"`
	Agent   int     `json:"agent"`
	Patches []Patch `json:"patches"`
}

// Trace is a whole editing trace.
type Trace struct {
	Kind         string `json:"kind"`
	StartContent string `json:"startContent"`
	EndContent   string `json:"endContent"`
	NumAgents    int    `json:"numAgents"`
	Txns         []Txn  `json:"txns"`
}

// ErrTrace reports a trace that does not follow the format.
var ErrTrace = errors.New("malformed trace")

// Concurrent reports whether t is a concurrent trace (with parents and agents).
func (t *Trace) Concurrent() bool { return t.Kind == "concurrent" }

// Load reads a gzipped trace file.
func Load(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load trace: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("load trace %s: %w", path, err)
	}
	t, err := Parse(zr)
	if err != nil {
		return nil, fmt.Errorf("load trace %s: %w", path, err)
	}
	return t, nil
}

// Parse decodes a trace from its JSON form and checks its structure.
func Parse(r io.Reader) (*Trace, error) {
	var t Trace
	if err := json.NewDecoder(r).Decode(&t); err != nil {
		return nil, fmt.Errorf("parse trace: %w", err)
	}
	if t.Concurrent() && t.NumAgents < 1 {
		return nil, fmt.Errorf("concurrent trace with %d agents: %w", t.NumAgents, ErrTrace)
	}
	for i, tx := range t.Txns {
		if t.Concurrent() && (tx.Agent < 0 || tx.Agent >= t.NumAgents) {
			return nil, fmt.Errorf("txn %d: agent %d: %w", i, tx.Agent, ErrTrace)
		}
		for _, p := range tx.Parents {
			if p < 0 || p >= i {
				return nil, fmt.Errorf("txn %d: parent %d: %w", i, p, ErrTrace)
			}
		}
	}
	return &t, nil
}

// Ops returns the splice ops of every transaction.
func (t *Trace) Ops() [][]crdt.SpliceOp {
	out := make([][]crdt.SpliceOp, len(t.Txns))
	for i, tx := range t.Txns {
		ops := make([]crdt.SpliceOp, len(tx.Patches))
		for j, p := range tx.Patches {
			ops[j] = crdt.SpliceOp{At: p.Pos, Delete: p.Del, Text: p.Ins}
		}
		out[i] = ops
	}
	return out
}

// AgentName is the client id replaying agent a of a concurrent trace.
func AgentName(a int) string { return "agent" + strconv.Itoa(a) }

// Stamp returns the stamp of transaction i made by client: mid i+1 and a clock that
// grows with i.
func Stamp(client string, i int) crdt.Stamp {
	return crdt.Stamp{Client: client, Mid: uint64(i + 1),
		Clock: crdt.HLC{Wall: 1_600_000_000_000 + int64(i), Actor: client}}
}

// ReplaySequential applies every transaction of a sequential trace as one splice by
// client "a" against the current content (base nil), and returns the sequence.
func ReplaySequential(t *Trace) (*crdt.Sequence, error) {
	s := crdt.NewSequence(crdt.SeqText)
	if err := ApplySequential(s, t.Ops()); err != nil {
		return nil, err
	}
	return s, nil
}

// ApplySequential applies ops[i] to s as mutation i+1 of client "a", base nil.
func ApplySequential(s *crdt.Sequence, ops [][]crdt.SpliceOp) error {
	for i, o := range ops {
		if err := s.Splice(Stamp("a", i), nil, crdt.HLC{}, o); err != nil {
			return fmt.Errorf("txn %d: %w", i, err)
		}
	}
	return nil
}
