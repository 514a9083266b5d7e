package crdt

import (
	"errors"
	"testing"
)

// v1State is a document encoded by version 1 of the storage encoding (which held the
// document id and absolute walls), as the stores of earlier builds hold it: document
// v1StateID with five fields set by one mutation.
const (
	v1StateID = "w0-1732377600000000000-17"
	v1State   = "Ld\x01\x19w0-1732377600000000000-17\x01\x16w0-1732377600000000000\x01\x00\x12\x00\xe6\xef\xaa\u0260" +
		"4\x00\x00\x00\x05\x04done\x01\x01\xe6\xef\xaa\u02604\x00\x00\x05false\x00\bpriority\x01\x01\xe6\xef\xaa\u02604\x00\x00\x012\x00" +
		"\x04site\x01\x01\xe6\xef\xaa\u02604\x00\x00\x06\"Oslo\"\x00\x06status\x01\x01\xe6\xef\xaa\u02604\x00\x00\x06\"open\"\x00" +
		"\x05title\x01\x01\xe6\xef\xaa\u02604\x00\x00\t\"Pump 17\"\x00"
)

func TestVersion1StatesStillDecode(t *testing.T) {
	d, err := UnmarshalDoc(v1StateID, []byte(v1State))
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"id":"w0-1732377600000000000-17","done":false,"priority":2,"site":"Oslo","status":"open","title":"Pump 17"}`
	if got := string(d.Materialize()); got != want {
		t.Fatalf("v1 state materialises as %s, want %s", got, want)
	}
	v2 := d.AppendBinary(nil)
	if len(v2) >= len(v1State) || v2[2] != encVersion {
		t.Fatalf("re-encoded as %d bytes (version %d), want fewer than version 1's %d", len(v2), v2[2], len(v1State))
	}
	back, err := UnmarshalDoc(v1StateID, v2)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "v1 to v2", d, back)
}

func TestVersion1StateOfAnotherDocument(t *testing.T) {
	if _, err := UnmarshalDoc("other", []byte(v1State)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("v1 state under another id: %v, want ErrCorrupt", err)
	}
}

func TestClocksBelowBaseRoundTrip(t *testing.T) {
	for _, h := range []HLC{{Wall: 0, Actor: "a"}, {Wall: MaxWall, Counter: MaxCounter, Actor: "a"}, {Wall: 1732377600000, Counter: 3, Actor: "a"}} {
		for _, base := range []int64{0, MaxWall, 1732377600000, -1 << 62} {
			r := reader{b: appendHLCBelow(nil, h, base, 0)}
			if got := r.hlcBelow(base, []string{"a"}); r.err != nil || got != h {
				t.Errorf("clock %v below %d: got %v, %v", h, base, got, r.err)
			}
		}
	}
}
