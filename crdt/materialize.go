package crdt

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// Materialize returns the document as JSON, or "null" when it is deleted. Object keys
// come out sorted after "id", so equal states give byte-equal documents; counters are
// numbers, sets arrays, text strings and lists arrays.
func (d *Doc) Materialize() []byte {
	b, _ := d.AppendJSON(nil)
	return b
}

// AppendJSON appends the materialised document to b and reports whether it is
// deleted (then it appends "null").
func (d *Doc) AppendJSON(b []byte) ([]byte, bool) {
	start := len(b)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, d.id)
	m := materializer{b: b}
	var base json.RawMessage
	if d.root.w.kind == writeValue {
		base = d.root.w.value
	}
	shown := m.fields(d.root, HLC{}, d.root.w.clock, base, true)
	if !shown && d.root.w.kind == writeTombstone {
		return append(b[:start], "null"...), true
	}
	return append(m.b, '}'), false
}

type materializer struct{ b []byte }

// node appends the value of n, where inherited is the value an ancestor's object
// write gives this path (nil if none) and floor the greatest clock written above n.
// It reports whether anything was appended.
func (m *materializer) node(n *node, floor HLC, inherited json.RawMessage) bool {
	own := inherited
	if n.w.kind != writeNone && !hidden(n.w.clock, floor) {
		own = nil
		if n.w.kind == writeValue {
			own = n.w.value
		}
	}
	inner := MaxHLC(floor, n.w.clock)
	if n.counter != nil || n.set != nil || n.seq != nil {
		return m.typed(n, inner)
	}
	if len(n.children) == 0 || !n.anyShown(inner) {
		if own == nil {
			return false
		}
		m.b = append(m.b, own...)
		return true
	}
	if len(own) == 0 || own[0] != '{' {
		own = nil // a later write below replaces a scalar with an object
	}
	m.b = append(m.b, '{')
	m.fields(n, floor, inner, own, false)
	m.b = append(m.b, '}')
	return true
}

// fields appends the members of the object at n: the keys of base overlaid by the
// children that show. afterID says a member (the id) was already written.
func (m *materializer) fields(n *node, floor, inner HLC, base json.RawMessage, afterID bool) bool {
	var baseObj map[string]json.RawMessage
	if len(base) > 0 && base[0] == '{' {
		_ = json.Unmarshal(base, &baseObj)
	}
	keys := make([]string, 0, len(baseObj)+len(n.children))
	for k := range baseObj {
		keys = append(keys, k)
	}
	for k := range n.children {
		if _, dup := baseObj[k]; !dup {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	shown, first := false, !afterID
	for _, k := range keys {
		if m.member(k, n.children[k], inner, baseObj[k], &first) {
			shown = true
		}
	}
	return shown
}

// member appends "key":value for one member and reports whether it showed.
func (m *materializer) member(k string, c *node, floor HLC, inherited json.RawMessage, first *bool) bool {
	mark := len(m.b)
	if !*first {
		m.b = append(m.b, ',')
	}
	m.b = appendJSONString(m.b, k)
	m.b = append(m.b, ':')
	ok := false
	if c == nil {
		m.b, ok = append(m.b, inherited...), true
	} else {
		ok = m.node(c, floor, inherited)
	}
	if !ok {
		m.b = m.b[:mark]
		return false
	}
	*first = false
	return true
}

func (m *materializer) typed(n *node, floor HLC) bool {
	switch {
	case n.counter != nil && n.counter.live(floor):
		m.b = appendJSONNumber(m.b, n.counter.value(floor))
	case n.set != nil && n.set.live(floor):
		m.b = n.set.appendJSON(m.b, floor)
	case n.seq != nil && n.seq.shows(floor):
		m.b = n.seq.appendJSON(m.b, floor)
	default:
		return false
	}
	return true
}

// anyShown reports whether some child of n shows above floor.
func (n *node) anyShown(floor HLC) bool {
	for _, c := range n.children {
		if c.shows(floor) {
			return true
		}
	}
	return false
}

func (n *node) shows(floor HLC) bool {
	if n.w.kind == writeValue && !hidden(n.w.clock, floor) {
		return true
	}
	inner := MaxHLC(floor, n.w.clock)
	switch {
	case n.counter != nil && n.counter.live(inner),
		n.set != nil && n.set.live(inner),
		n.seq != nil && n.seq.shows(inner):
		return true
	}
	return n.anyShown(inner)
}

// shows reports whether the sequence has visible content above floor: an emptied text
// or list is absent, as it is once compaction forgets the deleted items.
func (s *Sequence) shows(floor HLC) bool {
	if !s.Live(floor) {
		return false
	}
	if s.Kind() == SeqText {
		return s.Text(floor) != ""
	}
	return len(s.Values(floor)) > 0
}

// appendJSON appends a sequence's content as a JSON string (text) or array (list).
func (s *Sequence) appendJSON(b []byte, floor HLC) []byte {
	if s.Kind() == SeqText {
		t, _ := json.Marshal(s.Text(floor))
		return append(b, t...)
	}
	b = append(b, '[')
	for i, v := range s.Values(floor) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, v...)
	}
	return append(b, ']')
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONNumber appends f as encoding/json spells it: plain digits below 1e21
// (a counter at a million is 1000000, not 1e+06), exponent notation beyond.
func appendJSONNumber(b []byte, f float64) []byte {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}
