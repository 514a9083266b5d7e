package crdt

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lattice-sync/lattice/api/protocol"
)

// MaxIDLen bounds a document id in bytes.
const MaxIDLen = 512

// ParseMutation validates wire mutation w, sent by client, against the collection's
// declared fields and the limits, and returns it ready for Apply with the given clock
// (the caller parses the wire clock and applies its skew policy, or stamps one).
func ParseMutation(w *protocol.Mutation, client string, clock HLC, fields Fields, lim Limits) (Mutation, error) {
	lim = lim.withDefaults()
	m := Mutation{ID: w.ID, Client: client, Mid: w.Mid, Clock: clock, Delete: w.Delete}
	if err := checkHeader(w, client); err != nil {
		return Mutation{}, err
	}
	n := len(w.Set) + len(w.Unset) + len(w.Incr) + len(w.Add) + len(w.Remove) + len(w.Splice)
	p := parser{fields: fields, lim: lim, paths: make([]string, 0, n)}
	if len(w.Set) > 0 {
		m.Set = make([]PathValue, 0, len(w.Set))
	}
	for _, step := range [...]func(*parser, *protocol.Mutation, *Mutation) error{
		(*parser).sets, (*parser).unsets, (*parser).incrs, (*parser).sets2, (*parser).splices,
	} {
		if err := step(&p, w, &m); err != nil {
			return Mutation{}, err
		}
	}
	if p.ops == 0 && !m.Delete {
		return Mutation{}, mutErr(protocol.CodeInvalidMutation, "", "mutation changes nothing: give set, unset, incr, add, remove, splice or delete")
	}
	if p.ops > lim.MaxOps {
		return Mutation{}, mutErr(protocol.CodeTooLarge, "", "mutation has %d edits, limit is %d", p.ops, lim.MaxOps)
	}
	return m, nil
}

// MaxMid bounds mutation ids: 2^53, exact in JavaScript and far above what a
// client counting its mutations reaches, so that mid+1 never wraps.
const MaxMid = 1 << 53

func checkHeader(w *protocol.Mutation, client string) error {
	switch {
	case w.ID == "" || len(w.ID) > MaxIDLen || !validUTF8NoNUL(w.ID):
		return mutErr(protocol.CodeInvalidMutation, "id", "document id must be 1-%d bytes of UTF-8 without NUL", MaxIDLen)
	case w.Mid == 0:
		return mutErr(protocol.CodeInvalidMutation, "mid", "mid must be a positive integer")
	case w.Mid > MaxMid:
		return mutErr(protocol.CodeInvalidMutation, "mid", "mid must be at most 2^53 (a client counts its mutations from 1)")
	case w.Delete && (len(w.Set)+len(w.Unset)+len(w.Incr)+len(w.Add)+len(w.Remove)+len(w.Splice) > 0):
		return mutErr(protocol.CodeInvalidMutation, "delete", "delete cannot be combined with other edits; send them as a later mutation to revive the document")
	}
	if err := ValidateActor(client); err != nil {
		return mutErr(protocol.CodeInvalidMutation, "client", "%v", err)
	}
	return nil
}

type parser struct {
	fields Fields
	lim    Limits
	paths  []string
	ops    int
}

// path validates a path used by an edit of kind want and checks it does not overlap
// another path of the same mutation.
func (p *parser) path(s string, want FieldType) error {
	if err := ValidatePath(s, p.lim); err != nil {
		return mutErr(protocol.CodeInvalidPath, s, "%v", err)
	}
	if s == "id" || strings.HasPrefix(s, "id.") {
		return mutErr(protocol.CodeInvalidPath, s, "the document id cannot be changed")
	}
	if err := p.checkType(s, want); err != nil {
		return err
	}
	for _, q := range p.paths {
		if hasPathPrefix(q, s) || hasPathPrefix(s, q) {
			return mutErr(protocol.CodeInvalidMutation, s, "overlaps path %q of the same mutation", q)
		}
	}
	p.paths = append(p.paths, s)
	p.ops++
	return nil
}

func (p *parser) checkType(s string, want FieldType) error {
	if q, ok := p.fields.typedAbove(s); ok {
		return mutErr(protocol.CodeTypeMismatch, s, "lies inside %s field %q", p.fields.typeOf(q), q)
	}
	got := p.fields.typeOf(s)
	if want == FieldLWW && got == FieldLWW {
		return nil
	}
	if got != want && !(want == FieldText && got == FieldList) {
		return mutErr(protocol.CodeTypeMismatch, s, "is a %s field; this edit needs a %s field", got, want)
	}
	return nil
}

func (p *parser) sets(w *protocol.Mutation, m *Mutation) error {
	for _, k := range sortedKeys(w.Set) {
		if err := p.path(k, FieldLWW); err != nil {
			return err
		}
		v, err := p.value(k, w.Set[k], strings.Count(k, ".")+1)
		if err != nil {
			return err
		}
		if err := p.noTypedInside(k, v); err != nil {
			return err
		}
		m.Set = append(m.Set, PathValue{Path: k, Value: v})
	}
	return nil
}

// noTypedInside refuses an object value that would write into a typed path.
func (p *parser) noTypedInside(path string, v json.RawMessage) error {
	q, ok := p.fields.typedAtOrBelow(path)
	if !ok || v[0] != '{' {
		return nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(v, &obj); err != nil {
		return nil
	}
	rest := strings.TrimPrefix(q, path+".")
	head, tail, _ := strings.Cut(rest, ".")
	if inner, ok := obj[head]; ok {
		if tail == "" {
			return mutErr(protocol.CodeTypeMismatch, q, "is a %s field; set cannot write it", p.fields.typeOf(q))
		}
		return p.noTypedInside(path+"."+head, inner)
	}
	return nil
}

func (p *parser) unsets(w *protocol.Mutation, m *Mutation) error {
	us := slices.Clone(w.Unset)
	sort.Strings(us)
	for _, k := range us {
		if err := p.path(k, p.fields.typeOf(k)); err != nil {
			return err
		}
		m.Unset = append(m.Unset, k)
	}
	return nil
}

// exactInteger reports whether raw, if it is an integer literal, is one a float64
// holds exactly (within ±2^53); other numbers pass.
func exactInteger(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	if bytes.ContainsAny(raw, ".eE") {
		return true
	}
	i, err := strconv.ParseInt(string(raw), 10, 64)
	return err == nil && i >= -MaxIncrement && i <= MaxIncrement
}

// MaxIncrement bounds an increment's magnitude: 2^53, up to which every integer is
// exact in a float64 (and in JavaScript). A larger one would silently lose digits.
const MaxIncrement = 1 << 53

func (p *parser) incrs(w *protocol.Mutation, m *Mutation) error {
	for _, k := range sortedKeys(w.Incr) {
		if err := p.path(k, FieldCounter); err != nil {
			return err
		}
		d, err := parseNumber(w.Incr[k])
		if err != nil || math.IsInf(d, 0) || math.IsNaN(d) {
			return mutErr(protocol.CodeInvalidMutation, k, "increment %q is not a finite number", w.Incr[k])
		}
		if math.Abs(d) > MaxIncrement || !exactInteger(w.Incr[k]) {
			return mutErr(protocol.CodeInvalidMutation, k, "increment %q is outside ±2^53: counters are exact only up to it", w.Incr[k])
		}
		m.Incr = append(m.Incr, PathNumber{Path: k, Delta: d})
	}
	return nil
}

// sets2 parses add and remove, which may name the same set path together but not
// the same element.
func (p *parser) sets2(w *protocol.Mutation, m *Mutation) error {
	added := map[string]map[string]bool{}
	var err error
	if m.Add, err = p.elems(w.Add, added, nil); err != nil {
		return err
	}
	m.Remove, err = p.elems(w.Remove, nil, added)
	return err
}

func (p *parser) elems(in map[string][]json.RawMessage, record, conflict map[string]map[string]bool) ([]PathElems, error) {
	var out []PathElems
	for _, k := range sortedKeys(in) {
		if conflict[k] == nil {
			if err := p.path(k, FieldSet); err != nil {
				return nil, err
			}
		}
		pe := PathElems{Path: k}
		for _, raw := range in[k] {
			e, err := p.scalar(k, raw)
			if err != nil {
				return nil, err
			}
			if conflict[k][string(e)] {
				return nil, mutErr(protocol.CodeInvalidMutation, k, "element %s is both added and removed", e)
			}
			if record != nil {
				if record[k] == nil {
					record[k] = map[string]bool{}
				}
				record[k][string(e)] = true
			}
			pe.Elems = append(pe.Elems, e)
			p.ops++
		}
		out = append(out, pe)
	}
	return out, nil
}

func (p *parser) scalar(path string, raw json.RawMessage) (json.RawMessage, error) {
	v, err := compactJSON(raw)
	if err != nil || len(v) == 0 || v[0] == '{' || v[0] == '[' {
		return nil, mutErr(protocol.CodeInvalidMutation, path, "set elements must be JSON strings, numbers, booleans or null")
	}
	return v, nil
}

func (p *parser) splices(w *protocol.Mutation, m *Mutation) error {
	for _, k := range sortedKeys(w.Splice) {
		if err := p.path(k, FieldText); err != nil {
			return err
		}
		s := w.Splice[k]
		base, err := ParseVersion(s.Base)
		if err != nil {
			return mutErr(protocol.CodeInvalidMutation, k, "splice base: %v", err)
		}
		ps := PathSplice{Path: k, Base: base}
		for i := range s.Ops {
			op, err := p.spliceOp(k, &s.Ops[i], p.fields.typeOf(k))
			if err != nil {
				return err
			}
			ps.Ops = append(ps.Ops, op)
		}
		m.Splice = append(m.Splice, ps)
	}
	return nil
}

func (p *parser) spliceOp(path string, w *protocol.SpliceOp, t FieldType) (SpliceOp, error) {
	p.ops++
	if w.At < 0 || w.Delete < 0 {
		return SpliceOp{}, mutErr(protocol.CodeInvalidMutation, path, "splice at and delete must not be negative")
	}
	op := SpliceOp{At: w.At, Delete: w.Delete}
	if len(w.Insert) == 0 || string(w.Insert) == "null" {
		return op, nil
	}
	if t == FieldText {
		if err := json.Unmarshal(w.Insert, &op.Text); err != nil || !utf8.ValidString(op.Text) {
			return SpliceOp{}, mutErr(protocol.CodeInvalidMutation, path, "text splice insert must be a string")
		}
		p.ops += utf8.RuneCountInString(op.Text) / 64
		return op, nil
	}
	var vals []json.RawMessage
	if err := json.Unmarshal(w.Insert, &vals); err != nil {
		return SpliceOp{}, mutErr(protocol.CodeInvalidMutation, path, "list splice insert must be an array")
	}
	for _, raw := range vals {
		v, err := p.value(path, raw, strings.Count(path, ".")+2)
		if err != nil {
			return SpliceOp{}, err
		}
		op.Values = append(op.Values, v)
		p.ops++
	}
	return op, nil
}

// value compacts a JSON value and checks every object key in it and its depth.
func (p *parser) value(path string, raw json.RawMessage, depth int) (json.RawMessage, error) {
	v, err := compactJSON(raw)
	if err != nil {
		return nil, mutErr(protocol.CodeInvalidJSON, path, "value is not valid JSON: %v", err)
	}
	if err := p.checkKeys(v, depth); err != nil {
		return nil, mutErr(protocol.CodeInvalidPath, path, "%v", err)
	}
	return v, nil
}

func (p *parser) checkKeys(v []byte, depth int) error {
	if v[0] != '{' && v[0] != '[' {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	var stack []byte // '{' or '['
	expectKey := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			expectKey = p.delim(&stack, d)
			if depth+len(stack) > p.lim.MaxDepth {
				return errors.New("value nests deeper than the depth limit")
			}
			continue
		}
		if expectKey {
			if err := ValidateKey(tok.(string), p.lim); err != nil {
				return err
			}
		}
		expectKey = len(stack) > 0 && stack[len(stack)-1] == '{' && !expectKey
	}
}

// delim tracks nesting and reports whether the next token is an object key.
func (p *parser) delim(stack *[]byte, d json.Delim) bool {
	switch d {
	case '{', '[':
		*stack = append(*stack, byte(d))
	default:
		*stack = (*stack)[:len(*stack)-1]
	}
	return len(*stack) > 0 && (*stack)[len(*stack)-1] == '{'
}

func compactJSON(raw json.RawMessage) (json.RawMessage, error) {
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] != '{' && t[0] != '[' && json.Valid(t) {
		return t, nil // a scalar has no insignificant whitespace inside
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	if buf.Len() == 0 {
		return nil, errors.New("empty value")
	}
	return buf.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// parseNumber accepts a JSON number only (not a string holding one).
func parseNumber(raw json.RawMessage) (float64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, errors.New("not a JSON number")
	}
	var f float64
	err := json.Unmarshal(raw, &f)
	return f, err
}
