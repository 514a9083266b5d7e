package crdt

import (
	"fmt"
	"strings"
)

// FieldType is the CRDT a path holds. Paths not declared are last-writer-wins.
type FieldType uint8

// The field types of DESIGN.md.
const (
	FieldLWW FieldType = iota
	FieldCounter
	FieldSet
	FieldText
	FieldList
)

var fieldTypeNames = [...]string{"lww", "counter", "set", "text", "list"}

// String returns the configuration name of t.
func (t FieldType) String() string {
	if int(t) < len(fieldTypeNames) {
		return fieldTypeNames[t]
	}
	return fmt.Sprintf("FieldType(%d)", t)
}

// ParseFieldType parses a configuration name ("lww", "counter", "set", "text", "list").
func ParseFieldType(s string) (FieldType, error) {
	for i, n := range fieldTypeNames {
		if s == n {
			return FieldType(i), nil
		}
	}
	return 0, fmt.Errorf("unknown field type %q (want one of %s)", s, strings.Join(fieldTypeNames[:], ", "))
}

// Fields declares the typed paths of a collection: dotted path -> type.
type Fields map[string]FieldType

// Validate checks that every declared path is valid and that no typed path lies
// inside another typed path.
func (f Fields) Validate(lim Limits) error {
	for p := range f {
		if _, err := ParsePath(p, lim); err != nil {
			return fmt.Errorf("field %q: %w", p, err)
		}
		if p == "id" {
			return fmt.Errorf("field %q: the document id cannot be typed", p)
		}
		for q := range f {
			if q != p && strings.HasPrefix(q, p+".") {
				return fmt.Errorf("field %q: typed field %q lies inside it", p, q)
			}
		}
	}
	return nil
}

// typeOf returns the declared type of path p.
func (f Fields) typeOf(p string) FieldType { return f[p] }

// typedAtOrBelow reports whether a typed path is p or lies below p.
func (f Fields) typedAtOrBelow(p string) (string, bool) {
	for q, t := range f {
		if t != FieldLWW && (q == p || strings.HasPrefix(q, p+".")) {
			return q, true
		}
	}
	return "", false
}

// typedAbove reports whether a typed path is a proper prefix of p.
func (f Fields) typedAbove(p string) (string, bool) {
	for q, t := range f {
		if t != FieldLWW && strings.HasPrefix(p, q+".") {
			return q, true
		}
	}
	return "", false
}
