package merge

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
)

var fuzzFields = crdt.Fields{"hours": crdt.FieldCounter, "tags": crdt.FieldSet, "notes": crdt.FieldText, "parts": crdt.FieldList}

// FuzzPushDecode feeds arbitrary bodies through the push decoder and validation, and
// applies what validation accepts: nothing may panic, and an accepted mutation must
// apply to a new document and materialise as JSON.
func FuzzPushDecode(f *testing.F) {
	for _, seed := range []string{
		`{"mutations":[{"id":"d","mid":1,"hlc":"001763719200000.000003.c1","set":{"a.b":1,"x":{"y":[1,2]}},"unset":["z"],"incr":{"hours":1.5},"add":{"tags":["u"]},"remove":{"tags":[1]}}]}`,
		`{"mutations":[{"id":"d","mid":2,"splice":{"notes":{"base":"","ops":[{"at":0,"delete":0,"insert":"héllo"}]},"parts":{"base":"","ops":[{"at":0,"delete":0,"insert":[1,{"a":2}]}]}}}]}`,
		`{"mutations":[{"id":"d","mid":3,"delete":true}]}`,
		`{"mutations":[{"id":"","mid":0}]}`, `[]`, `{"mutations":[{"id":"d","mid":1,"set":{"$x":1}}]}`,
	} {
		f.Add([]byte(seed))
	}
	e := New(Config{Store: nil, Now: func() int64 { return 1763719200000 }})
	f.Fuzz(func(t *testing.T, body []byte) {
		var req protocol.PushRequest
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&req) != nil {
			return
		}
		b, err := e.parse(Collection{Name: "c", Fields: fuzzFields}, as("c1"), req.Mutations)
		if err != nil {
			return
		}
		d := crdt.NewDoc("d")
		for i := range b.mutations {
			m := b.mutations[i]
			if m.Clock.IsZero() {
				m.Clock = crdt.HLC{Wall: 1763719200000, Actor: "c1"}
			}
			_, _ = d.Apply(&m, fuzzFields)
		}
		if !json.Valid(d.Materialize()) {
			t.Fatalf("invalid JSON document %s", d.Materialize())
		}
	})
}
