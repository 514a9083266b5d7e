package httpapi

import (
	"fmt"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
)

// benchPushBody is a push of 100 new documents with 5 small fields.
func benchPushBody() []byte {
	ms := make([]string, 100)
	for i := range ms {
		ms[i] = fmt.Sprintf(`{"id":"w1-%d","mid":%d,"set":{"title":"Pump %d","status":"open","site":"Oslo","priority":%d,"done":false}}`, i, i+1, i, i%5)
	}
	return []byte(`{"mutations":[` + strings.Join(ms, ",") + `]}`)
}

// BenchmarkPushDecode compares the fast path with encoding/json on a push body.
func BenchmarkPushDecode(b *testing.B) {
	body := benchPushBody()
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodePushFast(body); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req protocol.PushRequest
			if err := decodeJSON(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
