package traces

import (
	"fmt"

	"github.com/lattice-sync/lattice/crdt"
)

// ReplayConcurrent replays a concurrent trace. Each agent keeps one branch (a
// Sequence). A transaction runs on its agent's branch: first the branches of other
// agents are merged in where the transaction's parents need mutations the branch
// lacks, then its patches are spliced against the parents' version (the branch may
// hold more than that: the splice is rebased over it). It returns the branches merged
// into one sequence.
func ReplayConcurrent(t *Trace) (*crdt.Sequence, error) {
	if !t.Concurrent() {
		return nil, fmt.Errorf("replay concurrent: trace kind %q: %w", t.Kind, ErrTrace)
	}
	r := newReplay(t)
	ops := t.Ops()
	for i := range t.Txns {
		if err := r.apply(i, ops[i]); err != nil {
			return nil, fmt.Errorf("replay concurrent: txn %d: %w", i, err)
		}
	}
	out := crdt.NewSequence(crdt.SeqText)
	for _, b := range r.branches {
		out.Merge(b)
	}
	return out, nil
}

// replay is the state of a concurrent replay.
type replay struct {
	t        *Trace
	names    []string
	branches []*crdt.Sequence
	has      [][]uint64 // per branch: per agent, greatest mid it holds
	version  [][]uint64 // per txn: per agent, greatest mid in its history
}

func newReplay(t *Trace) *replay {
	r := &replay{t: t, version: make([][]uint64, len(t.Txns))}
	for a := 0; a < t.NumAgents; a++ {
		r.names = append(r.names, AgentName(a))
		r.branches = append(r.branches, crdt.NewSequence(crdt.SeqText))
		r.has = append(r.has, make([]uint64, t.NumAgents))
	}
	return r
}

// apply runs transaction i on its agent's branch.
func (r *replay) apply(i int, ops []crdt.SpliceOp) error {
	tx := r.t.Txns[i]
	base := make([]uint64, r.t.NumAgents)
	for _, p := range tx.Parents {
		for a, m := range r.version[p] {
			base[a] = max(base[a], m)
		}
	}
	a := tx.Agent
	for b := range base {
		if b != a && base[b] > r.has[a][b] {
			r.branches[a].Merge(r.branches[b])
			for c, m := range r.has[b] {
				r.has[a][c] = max(r.has[a][c], m)
			}
		}
	}
	vv := crdt.VersionVector{}
	for b, m := range base {
		if m > 0 {
			vv[r.names[b]] = m
		}
	}
	if err := r.branches[a].Splice(Stamp(r.names[a], i), vv, crdt.HLC{}, ops); err != nil {
		return err
	}
	r.has[a][a] = uint64(i + 1)
	base[a] = uint64(i + 1)
	r.version[i] = base
	return nil
}
