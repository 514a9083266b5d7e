package httpapi

import (
	"reflect"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
)

// pushDecodeSeeds are bodies the fast path reads and bodies it must leave to
// encoding/json.
var pushDecodeSeeds = []string{
	`{"mutations":[{"id":"w1-0","mid":1,"set":{"title":"Pump 0","status":"open","priority":0,"done":false}}]}`,
	` { "mutations" : [ { "id" : "d" , "mid" : 7 , "hlc":"001763719200000.000003.c1", "set" : { "a.b" : { "x" : [1, "y", null] } } , "unset" : [ "z" ] , "incr" : { "h" : -1.5e3 } } , {"id":"e","mid":8,"delete":true} ] } `,
	`{"mutations":[]}`, `{}`, `{"mutations":[{}]}`,
	`{"mutations":[{"id":"d","mid":1,"set":{"a":"tab\tand \"quote\" and \u00e9"}}]}`,
	`{"mutations":[{"id":"d","id":"e","mid":1}]}`, `{"mutations":[{"id":"d","mid":1,"mid":2}]}`,
	`{"mutations":[{"id":"d","mid":1,"set":{"a":1},"set":{"b":2}}]}`, `{"mutations":[{"id":"d","mid":1,"set":{"a":1,"a":2}}]}`,
	`{"Mutations":[{"ID":"d","mid":1}]}`, `{"mutations":[{"id":"d","mid":1,"rename":{}}]}`,
	`{"mutations":[{"id":"d","mid":1.0}]}`, `{"mutations":[{"id":"d","mid":-1}]}`, `{"mutations":[{"id":"d","mid":18446744073709551616}]}`,
	`{"mutations":[{"id":"d","mid":1,"set":{"a":tru}}]}`, `{"mutations":[{"id":"d","mid":1,"set":{"a":[1,}]}}]}`,
	`{"mutations":[{"id":"d\u0041","mid":1}]}`, "{\"mutations\":[{\"id\":\"d\xff\",\"mid\":1}]}",
	`{"mutations":[{"id":"d","mid":1,"splice":{"t":{"base":"","ops":[{"at":0,"insert":"x"}]}}}]}`,
	`{"mutations":[{"id":"d","mid":1,"set":null}]}`, `{"mutations":null}`, `null`, `[]`,
	`{"mutations":[{"id":"d","mid":1}]} x`, `{"mutations":[{"id":"d","mid":1}]}{}`, `{"mutations":[{"id":"d","mid":1,"delete":false}]}`,
	`{"mutations":[{"id":"d","mid":1,"unset":[]}]}`, `{"mutations":[{"id":"d","mid":1,"set":{}}]}`,
	"{\"mutations\":[{\"id\":\"a\",\"mid\":1,\"set\":{\"x\":\"\xc3\"}}]}",
	`{"mutations":[{"id":"a","mid":1,"set":{"x":"\ud83d"}}]}`, `{"mutations":[{"id":"\ud83d\ude00","mid":1}]}`,
	`{"Mutations":[{"id":"a","mid":1}]}`, `{"mutations":[{"ID":"a","mid":1}]}`,
}

// TestPushDecodeFastMatchesEncodingJSON: on every seed, the fast path either declines
// or agrees with encoding/json; and it does read the common shapes.
func TestPushDecodeFastMatchesEncodingJSON(t *testing.T) {
	accepted := 0
	for _, body := range pushDecodeSeeds {
		if checkFastDecode(t, []byte(body)) {
			accepted++
		}
	}
	if accepted < 7 {
		t.Fatalf("the fast path read %d of the seeds; it should read the common shapes", accepted)
	}
	if _, ok := decodePushFast([]byte(pushDecodeSeeds[0])); !ok {
		t.Fatal("the fast path declined the benchmark's push body")
	}
}

// checkFastDecode fails t if the fast path accepts body and encoding/json does not
// decode it to the same request; it reports whether the fast path accepted.
func checkFastDecode(t *testing.T, body []byte) bool {
	t.Helper()
	fast, ok := decodePushFast(body)
	if !ok {
		return false
	}
	var want protocol.PushRequest
	if err := decodeJSON(body, &want); err != nil {
		t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", body, err)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("body %q:\nfast path    %#v\nencoding/json %#v", body, fast, want)
	}
	return true
}

// FuzzPushDecodeFast differentially fuzzes the fast path against encoding/json.
func FuzzPushDecodeFast(f *testing.F) {
	for _, s := range pushDecodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFastDecode(t, body) })
}
