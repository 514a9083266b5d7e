package crdt

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
)

var parseFields = Fields{"hours": FieldCounter, "tags": FieldSet, "notes": FieldText, "parts": FieldList, "stats.n": FieldCounter}

func TestParseMutationRefusesBadInput(t *testing.T) {
	deep := strings.Repeat("a.", 40) + "z"
	deepValue := strings.Repeat(`{"k":`, 40) + "1" + strings.Repeat("}", 40)
	tests := []struct {
		name, body, code string
	}{
		{"no id", `{"mid":1,"set":{"a":1}}`, protocol.CodeInvalidMutation},
		{"zero mid", `{"id":"d","set":{"a":1}}`, protocol.CodeInvalidMutation},
		{"mid past 2^53", `{"id":"d","mid":18446744073709551615,"set":{"a":1}}`, protocol.CodeInvalidMutation},
		{"nothing to do", `{"id":"d","mid":1}`, protocol.CodeInvalidMutation},
		{"delete with edits", `{"id":"d","mid":1,"delete":true,"set":{"a":1}}`, protocol.CodeInvalidMutation},
		{"empty path", `{"id":"d","mid":1,"set":{"":1}}`, protocol.CodeInvalidPath},
		{"empty segment", `{"id":"d","mid":1,"set":{"a..b":1}}`, protocol.CodeInvalidPath},
		{"dollar path", `{"id":"d","mid":1,"set":{"$where":1}}`, protocol.CodeInvalidPath},
		{"dollar key in value", `{"id":"d","mid":1,"set":{"a":{"$gt":1}}}`, protocol.CodeInvalidPath},
		{"dotted key in value", `{"id":"d","mid":1,"set":{"a":{"b.c":1}}}`, protocol.CodeInvalidPath},
		{"dotted key deep in value", `{"id":"d","mid":1,"set":{"a":[{"x":{"b.c":1}}]}}`, protocol.CodeInvalidPath},
		{"empty key in value", `{"id":"d","mid":1,"set":{"a":{"":1}}}`, protocol.CodeInvalidPath},
		{"deep path", `{"id":"d","mid":1,"set":{"` + deep + `":1}}`, protocol.CodeInvalidPath},
		{"deep value", `{"id":"d","mid":1,"set":{"a":` + deepValue + `}}`, protocol.CodeInvalidPath},
		{"set id", `{"id":"d","mid":1,"set":{"id":"x"}}`, protocol.CodeInvalidPath},
		{"overlapping paths", `{"id":"d","mid":1,"set":{"a":1,"a.b":2}}`, protocol.CodeInvalidMutation},
		{"set and unset same path", `{"id":"d","mid":1,"set":{"a":1},"unset":["a"]}`, protocol.CodeInvalidMutation},
		{"set a counter", `{"id":"d","mid":1,"set":{"hours":1}}`, protocol.CodeTypeMismatch},
		{"set into a counter via object", `{"id":"d","mid":1,"set":{"stats":{"n":1}}}`, protocol.CodeTypeMismatch},
		{"set below a set", `{"id":"d","mid":1,"set":{"tags.x":1}}`, protocol.CodeTypeMismatch},
		{"incr a plain field", `{"id":"d","mid":1,"incr":{"status":1}}`, protocol.CodeTypeMismatch},
		{"incr past 2^63", `{"id":"d","mid":1,"incr":{"hours":9223372036854775808}}`, protocol.CodeInvalidMutation},
		{"incr past 2^53", `{"id":"d","mid":1,"incr":{"hours":9007199254740993}}`, protocol.CodeInvalidMutation},
		{"incr below -2^53", `{"id":"d","mid":1,"incr":{"hours":-1e16}}`, protocol.CodeInvalidMutation},
		{"incr past 1e308", `{"id":"d","mid":1,"incr":{"hours":1e309}}`, protocol.CodeInvalidMutation},
		{"add to a counter", `{"id":"d","mid":1,"add":{"hours":[1]}}`, protocol.CodeTypeMismatch},
		{"splice a set", `{"id":"d","mid":1,"splice":{"tags":{"base":"","ops":[{"at":0,"delete":0,"insert":"x"}]}}}`, protocol.CodeTypeMismatch},
		{"add object element", `{"id":"d","mid":1,"add":{"tags":[{"a":1}]}}`, protocol.CodeInvalidMutation},
		{"add and remove same element", `{"id":"d","mid":1,"add":{"tags":["x"]},"remove":{"tags":["x"]}}`, protocol.CodeInvalidMutation},
		{"negative splice", `{"id":"d","mid":1,"splice":{"notes":{"base":"","ops":[{"at":-1,"delete":0,"insert":"x"}]}}}`, protocol.CodeInvalidMutation},
		{"text insert not a string", `{"id":"d","mid":1,"splice":{"notes":{"base":"","ops":[{"at":0,"delete":0,"insert":[1]}]}}}`, protocol.CodeInvalidMutation},
		{"list insert not an array", `{"id":"d","mid":1,"splice":{"parts":{"base":"","ops":[{"at":0,"delete":0,"insert":"x"}]}}}`, protocol.CodeInvalidMutation},
		{"bad base", `{"id":"d","mid":1,"splice":{"notes":{"base":"yesterday","ops":[]}}}`, protocol.CodeInvalidMutation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w protocol.Mutation
			if err := json.Unmarshal([]byte(tt.body), &w); err != nil {
				t.Fatalf("test body: %v", err)
			}
			_, err := ParseMutation(&w, "anna", HLC{Wall: 1, Actor: "anna"}, parseFields, Limits{})
			var me *MutationError
			if !errors.As(err, &me) || me.Code != tt.code {
				t.Fatalf("got %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestParseMutationSortsAndCompacts(t *testing.T) {
	var w protocol.Mutation
	body := `{"id":"d","mid":3,"set":{"b":{ "x" : 1 },"a":[1, 2]},"unset":["z","y"],"incr":{"hours":1.5},"add":{"tags":["u"]}}`
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		t.Fatal(err)
	}
	m, err := ParseMutation(&w, "anna", HLC{Wall: 1, Actor: "anna"}, parseFields, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Set[0].Path != "a" || string(m.Set[0].Value) != "[1,2]" || string(m.Set[1].Value) != `{"x":1}` {
		t.Fatalf("set not sorted/compacted: %+v", m.Set)
	}
	if m.Unset[0] != "y" || m.Incr[0].Delta != 1.5 || string(m.Add[0].Elems[0]) != `"u"` {
		t.Fatalf("unexpected %+v", m)
	}
}

func TestApplyRetryIsNoOp(t *testing.T) {
	d := NewDoc("d")
	m := mustParse(t, `{"id":"d","mid":1,"incr":{"hours":2}}`, "anna", 10)
	for i := 0; i < 3; i++ {
		changed, err := d.Apply(&m, parseFields)
		if err != nil || changed != (i == 0) {
			t.Fatalf("apply #%d: changed=%v err=%v", i, changed, err)
		}
	}
	if got := string(d.Materialize()); got != `{"id":"d","hours":2}` {
		t.Fatalf("got %s", got)
	}
}

func TestSpliceOutOfRangeChangesNothing(t *testing.T) {
	d := NewDoc("d")
	ok := mustParse(t, `{"id":"d","mid":1,"splice":{"notes":{"base":"","ops":[{"at":0,"delete":0,"insert":"abc"}]}}}`, "anna", 10)
	if _, err := d.Apply(&ok, parseFields); err != nil {
		t.Fatal(err)
	}
	before := d.AppendBinary(nil)
	bad := mustParse(t, `{"id":"d","mid":2,"set":{"x":1},"splice":{"notes":{"base":"`+d.Version()+`","ops":[{"at":9,"delete":0,"insert":"z"}]}}}`, "anna", 11)
	if _, err := d.Apply(&bad, parseFields); err == nil {
		t.Fatal("out-of-range splice accepted")
	}
	if string(d.AppendBinary(nil)) != string(before) {
		t.Fatal("a refused mutation changed the state")
	}
}

func mustParse(t testing.TB, body, client string, wall int64) Mutation {
	t.Helper()
	var w protocol.Mutation
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		t.Fatal(err)
	}
	m, err := ParseMutation(&w, client, HLC{Wall: wall, Actor: client}, parseFields, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestClocksNameTheWinningWrites(t *testing.T) {
	d := NewDoc("d")
	for _, m := range []Mutation{
		mustParse(t, `{"id":"d","mid":1,"set":{"a":{"b":1},"s":"x"},"incr":{"hours":1}}`, "anna", 10),
		mustParse(t, `{"id":"d","mid":1,"set":{"a.c":2},"add":{"tags":["t"]}}`, "ben", 20),
	} {
		if _, err := d.Apply(&m, parseFields); err != nil {
			t.Fatal(err)
		}
	}
	got := d.Clocks()
	want := map[string]string{
		"a": "000000000000010.000000.anna", "a.c": "000000000000020.000000.ben", "s": "000000000000010.000000.anna",
		"hours": "000000000000010.000000.anna", "tags": "000000000000020.000000.ben",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: got %s want %s (all: %v)", k, got[k], v, got)
		}
	}
}

// TestCounterSumsStayExact: increments that would take a counter past ±2^53 are
// refused whole, and the document keeps its value.
func TestCounterSumsStayExact(t *testing.T) {
	d := NewDoc("d")
	incr := func(mid uint64, delta string) error {
		w := protocol.Mutation{ID: "d", Mid: mid, Incr: map[string]json.RawMessage{"hours": json.RawMessage(delta), "stats.n": json.RawMessage("1")}}
		m, err := ParseMutation(&w, "anna", HLC{Wall: int64(mid), Actor: "anna"}, parseFields, Limits{})
		if err != nil {
			return err
		}
		_, err = d.Apply(&m, parseFields)
		return err
	}
	for mid, delta := range []string{"9007199254740990", "1"} {
		if err := incr(uint64(mid+1), delta); err != nil {
			t.Fatalf("increment %s: %v", delta, err)
		}
	}
	var me *MutationError
	if err := incr(3, "1"); !errors.As(err, &me) || me.Code != protocol.CodeInvalidMutation || me.Field != "hours" {
		t.Fatalf("a sum past 2^53: %v", err)
	}
	if got := string(d.Materialize()); got != `{"id":"d","hours":9007199254740991,"stats":{"n":2}}` {
		t.Fatalf("the refused increment changed the document: %s", got)
	}
}
