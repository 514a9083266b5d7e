package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/crdt"
)

const orders = `{"type":"object","required":["status"],
 "properties":{"id":{"type":"string"},"status":{"enum":["open","in_progress","done"]},
  "hours":{"type":"number","minimum":0},"address":{"type":"object","properties":{"zip":{"type":"string","pattern":"^[0-9]{4}$"}}}}}`

func TestValidate(t *testing.T) {
	s, err := Compile(json.RawMessage(orders), crdt.Fields{"hours": crdt.FieldCounter})
	if err != nil {
		t.Fatal(err)
	}
	if v := s.Validate([]byte(`{"id":"a","status":"open","hours":2,"address":{"zip":"0150"}}`)); v != nil {
		t.Fatalf("valid document refused: %+v", v)
	}
	cases := map[string]struct{ doc, path, rule string }{
		"enum":     {`{"id":"a","status":"lost"}`, "/status", "/properties/status/enum"},
		"required": {`{"id":"a"}`, "", "/required"},
		"minimum":  {`{"id":"a","status":"open","hours":-1}`, "/hours", "/properties/hours/minimum"},
		"nested":   {`{"id":"a","status":"open","address":{"zip":"x"}}`, "/address/zip", "/properties/address/properties/zip/pattern"},
	}
	for name, c := range cases {
		v := s.Validate([]byte(c.doc))
		if v == nil || v.Path != c.path || v.Rule != c.rule || v.Message == "" {
			t.Errorf("%s: got %+v, want path %q rule %q", name, v, c.path, c.rule)
		}
	}
}

func TestVersionChangesWithSchemaAndTypesOnly(t *testing.T) {
	a, _ := Compile(json.RawMessage(`{"type":"object","properties":{"x":{"type":"string"}}}`), nil)
	b, _ := Compile(json.RawMessage(`{ "properties": {"x": {"type":"string"}}, "type": "object" }`), nil)
	c, _ := Compile(json.RawMessage(`{"type":"object","properties":{"x":{"type":"number"}}}`), nil)
	d, _ := Compile(json.RawMessage(`{"type":"object","properties":{"x":{"type":"string"}}}`), crdt.Fields{"n": crdt.FieldCounter})
	if a.Version != b.Version || a.Version == c.Version || a.Version == d.Version || !strings.HasPrefix(a.Version, "s1.") {
		t.Fatalf("versions %s %s %s %s", a.Version, b.Version, c.Version, d.Version)
	}
	none, _ := Compile(nil, nil)
	if string(none.Raw) != `{"type":"object"}` || none.Validate([]byte(`{"id":"x"}`)) != nil {
		t.Fatalf("default schema %s", none.Raw)
	}
}

func TestCompileRefusesBadSchemas(t *testing.T) {
	for _, raw := range []string{`{`, `{"type":"objekt"}`, `{"minimum":"zero"}`, `{"$ref":"#/nowhere"}`} {
		if _, err := Compile(json.RawMessage(raw), nil); err == nil {
			t.Errorf("%s compiled", raw)
		}
	}
}
