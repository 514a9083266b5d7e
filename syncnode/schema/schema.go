package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/lattice-sync/lattice/crdt"
)

// Schema is a collection's compiled schema and declared field types.
type Schema struct {
	// Version changes whenever the schema or the field types change.
	Version string
	// Raw is the JSON Schema as configured (`{"type":"object"}` when none was).
	Raw json.RawMessage
	// Types maps typed paths to their type names ("counter", "set", "text", "list").
	Types    map[string]string
	compiled *jsonschema.Schema
	// anyObject: the schema accepts every object, as every document is one.
	anyObject bool
}

// Violation says which rule a document breaks where.
type Violation struct {
	// Path is the JSON pointer of the offending value ("" for the document).
	Path string
	// Rule is the schema keyword location of the failed rule.
	Rule string
	// Message describes the problem for a person.
	Message string
}

// Compile compiles raw (nil or empty: any object) for a collection with fields.
func Compile(raw json.RawMessage, fields crdt.Fields) (*Schema, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage(`{"type":"object"}`)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	const url = "lattice://collection/schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	compiled, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema does not compile: %w", err)
	}
	s := &Schema{Raw: raw, Types: map[string]string{}, compiled: compiled, anyObject: acceptsAnyObject(raw)}
	for p, t := range fields {
		s.Types[p] = t.String()
	}
	s.Version = version(raw, s.Types)
	return s, nil
}

// version hashes the canonical schema and the types.
func version(raw json.RawMessage, types map[string]string) string {
	var canon any
	_ = json.Unmarshal(raw, &canon)
	b, _ := json.Marshal(canon) // maps marshal with sorted keys
	h := sha256.New()
	h.Write(b)
	keys := make([]string, 0, len(types))
	for k := range types {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "\x00%s=%s", k, types[k])
	}
	return "s1." + hex.EncodeToString(h.Sum(nil))[:16]
}

// acceptsAnyObject reports whether raw is {} or {"type":"object"} (the default), so
// validating a document, which is always an object, can be skipped.
func acceptsAnyObject(raw json.RawMessage) bool {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	return len(m) == 0 || (len(m) == 1 && m["type"] == "object")
}

// AcceptsAll reports whether the schema accepts every document (none was declared,
// or it only says the document is an object). A nil Schema accepts all too.
func (s *Schema) AcceptsAll() bool { return s == nil || s.anyObject }

// Validate checks a materialised document; nil means it conforms (a nil Schema
// accepts every document).
func (s *Schema) Validate(doc []byte) *Violation {
	if s.AcceptsAll() {
		return nil
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return &Violation{Message: "document is not JSON: " + err.Error()}
	}
	err = s.compiled.Validate(inst)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return &Violation{Message: err.Error()}
	}
	return deepest(ve)
}

// deepest reports the most specific rule broken: the error unit with the longest
// keyword location.
func deepest(ve *jsonschema.ValidationError) *Violation {
	var best *jsonschema.OutputUnit
	out := ve.BasicOutput()
	for i := range out.Errors {
		u := &out.Errors[i]
		if u.Error != nil && (best == nil || len(u.KeywordLocation) > len(best.KeywordLocation)) {
			best = u
		}
	}
	if best == nil {
		return &Violation{Message: strings.TrimSpace(ve.Error())}
	}
	return &Violation{Path: best.InstanceLocation, Rule: best.KeywordLocation, Message: best.Error.String()}
}
