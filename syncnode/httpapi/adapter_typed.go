package httpapi

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"slices"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
)

// typed diffs a declared counter, set, text or list path.
func (d *differ) typed(path string, t crdt.FieldType, b, n, c any) {
	var err error
	switch t {
	case crdt.FieldText:
		err = d.text(path, b, n, c)
	case crdt.FieldList:
		err = d.list(path, b, n, c)
	case crdt.FieldSet:
		err = d.set(path, b, n)
	case crdt.FieldCounter:
		err = d.counter(path, b, n, c)
	}
	if err != nil && d.err == nil {
		d.err = errorf(http.StatusBadRequest, protocol.CodeTypeMismatch, "document %s: %s: %v", d.m.ID, path, err).
			with("id", d.m.ID).with("field", path)
	}
}

// text sends the client's edit (base text -> new text) as a splice against the base
// version, so that the engine rebases it over concurrent edits.
func (d *differ) text(path string, b, n, c any) error {
	bs, ok1 := stringOrEmpty(b)
	ns, ok2 := stringOrEmpty(n)
	if !ok1 || !ok2 {
		return fmt.Errorf("a text field holds a string")
	}
	cs, _ := stringOrEmpty(c)
	if bs == ns || cs == ns || d.retried {
		return nil // no edit, already there, or a retry of an applied edit
	}
	at, del, ins := diffRunes([]rune(bs), []rune(ns))
	d.splice(path, protocol.SpliceOp{At: at, Delete: del, Insert: mustJSON(string(ins))})
	return nil
}

// list does for lists what text does for strings, element by element.
func (d *differ) list(path string, b, n, c any) error {
	bl, ok1 := elems(b)
	nl, ok2 := elems(n)
	if !ok1 || !ok2 {
		return fmt.Errorf("a list field holds an array")
	}
	cl, _ := elems(c)
	if slices.Equal(bl, nl) || slices.Equal(cl, nl) || d.retried {
		return nil
	}
	at, del, ins := diffRunes(bl, nl)
	raw := make([]json.RawMessage, len(ins))
	for i, e := range ins {
		raw[i] = json.RawMessage(e)
	}
	d.splice(path, protocol.SpliceOp{At: at, Delete: del, Insert: mustJSON(raw)})
	return nil
}

func (d *differ) splice(path string, op protocol.SpliceOp) {
	if d.m.Splice == nil {
		d.m.Splice = map[string]protocol.Splice{}
	}
	d.m.Splice[path] = protocol.Splice{Base: d.baseVersion, Ops: []protocol.SpliceOp{op}}
	d.n++
}

// set adds what the client added and removes what it removed; both are idempotent.
func (d *differ) set(path string, b, n any) error {
	bl, ok1 := elems(b)
	nl, ok2 := elems(n)
	if !ok1 || !ok2 {
		return fmt.Errorf("a set field holds an array")
	}
	for _, e := range nl {
		if !slices.Contains(bl, e) {
			d.addElem(&d.m.Add, path, e)
		}
	}
	for _, e := range bl {
		if !slices.Contains(nl, e) {
			d.addElem(&d.m.Remove, path, e)
		}
	}
	return nil
}

func (d *differ) addElem(dst *map[string][]json.RawMessage, path string, e string) {
	if *dst == nil {
		*dst = map[string][]json.RawMessage{}
	}
	(*dst)[path] = append((*dst)[path], json.RawMessage(e))
	d.n++
}

// counter increments by the client's change (new - base), unless this is a retry.
func (d *differ) counter(path string, b, n, c any) error {
	bv, ok1 := number(b)
	nv, ok2 := number(n)
	if !ok1 || !ok2 {
		return fmt.Errorf("a counter field holds a number")
	}
	delta := new(big.Float).Sub(nv, bv)
	if delta.Sign() == 0 || d.retried {
		return nil
	}
	if cv, ok := number(c); ok && c != nil && cv.Cmp(nv) == 0 && d.baseVersion == "" {
		return nil
	}
	if d.m.Incr == nil {
		d.m.Incr = map[string]json.RawMessage{}
	}
	d.m.Incr[path] = json.RawMessage(delta.Text('g', -1))
	d.n++
	return nil
}

func stringOrEmpty(v any) (string, bool) {
	if v == nil {
		return "", true
	}
	s, ok := v.(string)
	return s, ok
}

// elems returns the canonical JSON of each element of an array (nil: empty).
func elems(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		out[i] = string(mustJSON(e))
	}
	return out, true
}

func number(v any) (*big.Float, bool) {
	if v == nil {
		return new(big.Float), true
	}
	n, ok := v.(json.Number)
	if !ok {
		return nil, false
	}
	f, _, err := big.ParseFloat(n.String(), 10, 64, big.ToNearestEven)
	return f, err == nil
}

// diffRunes returns one replacement turning a into b: at index at, delete del
// elements and insert ins (common prefix and suffix kept).
func diffRunes[T comparable](a, b []T) (at, del int, ins []T) {
	for at < len(a) && at < len(b) && a[at] == b[at] {
		at++
	}
	ea, eb := len(a), len(b)
	for ea > at && eb > at && a[ea-1] == b[eb-1] {
		ea--
		eb--
	}
	return at, ea - at, b[at:eb]
}
