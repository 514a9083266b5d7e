package merge

import (
	"errors"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
)

// batch is a validated push: mutations in request order, grouped by document.
type batch struct {
	mutations []crdt.Mutation
	stamp     []bool           // stamp[i]: the server stamps mutation i's clock
	byDoc     map[string][]int // document id -> indexes into mutations, in order
	order     []string         // document ids in first-seen order
}

func (e *Engine) parse(coll Collection, w Writer, ws []protocol.Mutation) (*batch, error) {
	for _, id := range []string{w.Device, w.Actor} {
		if err := crdt.ValidateActor(id); err != nil {
			return nil, &Error{Status: 400, Code: protocol.CodeInvalidMutation, Message: "Lattice-Client header: " + err.Error(),
				Details: map[string]any{"header": "Lattice-Client"}}
		}
	}
	b := &batch{byDoc: make(map[string][]int, len(ws)), order: make([]string, 0, len(ws)),
		mutations: make([]crdt.Mutation, 0, len(ws)), stamp: make([]bool, 0, len(ws))}
	now := e.cfg.Now()
	for i := range ws {
		clock, stamp, err := e.receiveClock(ws[i].HLC, w, now)
		if err != nil {
			return nil, mutationError(i, ws[i].ID, err)
		}
		m, err := crdt.ParseMutation(&ws[i], w.Actor, clock, coll.Fields, e.cfg.Limits)
		if err != nil {
			return nil, mutationError(i, ws[i].ID, err)
		}
		if _, seen := b.byDoc[m.ID]; !seen {
			b.order = append(b.order, m.ID)
		}
		b.byDoc[m.ID] = append(b.byDoc[m.ID], i)
		b.mutations = append(b.mutations, m)
		b.stamp = append(b.stamp, stamp)
	}
	return b, nil
}

// receiveClock parses a client clock, whose actor must be the writer's device, and
// applies the skew bound; the clock is recorded under the writer's actor. An absent
// clock is stamped later, once the document is loaded, above every clock in it.
func (e *Engine) receiveClock(s string, w Writer, now int64) (crdt.HLC, bool, error) {
	if s == "" {
		return crdt.HLC{}, true, nil
	}
	h, err := crdt.ParseHLC(s)
	if err != nil {
		return crdt.HLC{}, false, &crdt.MutationError{Code: protocol.CodeInvalidMutation, Field: "hlc", Msg: err.Error()}
	}
	if h.Actor != w.Device {
		return crdt.HLC{}, false, &crdt.MutationError{Code: protocol.CodeInvalidMutation, Field: "hlc",
			Msg: "the clock's actor must be the Lattice-Client id " + w.Device}
	}
	h.Actor = w.Actor
	e.mu.Lock()
	defer e.mu.Unlock()
	got, err := e.clock.Receive(h, now)
	if errors.Is(err, crdt.ErrClockAhead) {
		return crdt.HLC{}, false, &crdt.MutationError{Code: protocol.CodeInvalidMutation, Field: "hlc", Msg: err.Error()}
	}
	return got, false, err
}

// stampAfter returns a server clock above floor (the document's greatest clock).
func (e *Engine) stampAfter(floor crdt.HLC) crdt.HLC {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock.After(floor, e.cfg.Now())
}
