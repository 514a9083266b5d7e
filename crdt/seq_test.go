package crdt

import (
	"encoding/json"
	"errors"
	"testing"
)

func sqStamp(client string, mid uint64) Stamp {
	return Stamp{Client: client, Mid: mid, Clock: HLC{Wall: 1_000 + int64(mid), Actor: client}}
}

func sqIns(at int, text string) SpliceOp    { return SpliceOp{At: at, Text: text} }
func sqDel(at, n int) SpliceOp              { return SpliceOp{At: at, Delete: n} }
func sqRep(at, n int, text string) SpliceOp { return SpliceOp{At: at, Delete: n, Text: text} }
func sqVals(at int, vs ...string) SpliceOp  { return SpliceOp{At: at, Values: sqRaw(vs...)} }
func sqRaw(vs ...string) []json.RawMessage  { return sqRawList(vs) }
func sqRawList(vs []string) []json.RawMessage {
	out := make([]json.RawMessage, len(vs))
	for i, v := range vs {
		out[i] = json.RawMessage(v)
	}
	return out
}

// sqTextOf builds a text sequence by fast-path splices, one mutation per op list.
func sqTextOf(t *testing.T, client string, muts ...[]SpliceOp) *Sequence {
	t.Helper()
	s := NewSequence(SeqText)
	for i, ops := range muts {
		if err := s.Splice(sqStamp(client, uint64(i+1)), nil, HLC{}, ops); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestSpliceFastPath(t *testing.T) {
	tests := []struct {
		name string
		muts [][]SpliceOp
		want string
	}{
		{"insert", [][]SpliceOp{{sqIns(0, "hello")}}, "hello"},
		{"typing", [][]SpliceOp{{sqIns(0, "h")}, {sqIns(1, "e")}, {sqIns(2, "y")}}, "hey"},
		{"prepend", [][]SpliceOp{{sqIns(0, "c")}, {sqIns(0, "b")}, {sqIns(0, "a")}}, "abc"},
		{"middle", [][]SpliceOp{{sqIns(0, "ad")}, {sqIns(1, "bc")}}, "abcd"},
		{"ops apply in turn", [][]SpliceOp{{sqIns(0, "abc"), sqDel(1, 1), sqIns(1, "XY")}}, "aXYc"},
		{"replace", [][]SpliceOp{{sqIns(0, "check valve now")}, {sqRep(12, 3, "today")}}, "check valve today"},
		{"delete across runs", [][]SpliceOp{{sqIns(0, "ab")}, {sqIns(2, "cd")}, {sqIns(0, "__")}, {sqDel(1, 4)}}, "_d"},
		{"backspace and retype", [][]SpliceOp{{sqIns(0, "abc")}, {sqDel(2, 1)}, {sqDel(1, 1)}, {sqIns(1, "x")}}, "ax"},
		{"delete all", [][]SpliceOp{{sqIns(0, "abc")}, {sqDel(0, 3)}, {sqIns(0, "z")}}, "z"},
		{"code points", [][]SpliceOp{{sqIns(0, "héllo wörld ✓")}, {sqDel(1, 1)}, {sqIns(1, "é")}, {sqRep(7, 1, "ø")}}, "héllo wørld ✓"},
		{"astral", [][]SpliceOp{{sqIns(0, "a😀b")}, {sqDel(1, 1)}}, "ab"},
		{"empty op", [][]SpliceOp{{sqIns(0, "x"), {}}}, "x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := sqTextOf(t, "c1", tc.muts...)
			if got := s.Text(HLC{}); got != tc.want {
				t.Fatalf("Text = %q, want %q", got, tc.want)
			}
			if !s.Live(HLC{}) {
				t.Fatal("not live")
			}
			sqRoundTrip(t, s)
		})
	}
}

func TestSpliceErrorsLeaveSequenceUnchanged(t *testing.T) {
	tests := []struct {
		name string
		kind SeqKind
		ops  []SpliceOp
		err  error
	}{
		{"at past end", SeqText, []SpliceOp{sqIns(4, "x")}, ErrSpliceRange},
		{"delete past end", SeqText, []SpliceOp{sqDel(1, 3)}, ErrSpliceRange},
		{"negative at", SeqText, []SpliceOp{sqIns(-1, "x")}, ErrSpliceRange},
		{"negative delete", SeqText, []SpliceOp{{At: 0, Delete: -1}}, ErrSpliceRange},
		{"second op out of range", SeqText, []SpliceOp{sqDel(0, 3), sqIns(1, "x")}, ErrSpliceRange},
		{"values into text", SeqText, []SpliceOp{sqVals(0, "1")}, ErrSpliceKind},
		{"text into list", SeqList, []SpliceOp{sqIns(0, "x")}, ErrSpliceKind},
		{"invalid JSON", SeqList, []SpliceOp{sqVals(0, "{")}, ErrSpliceKind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSequence(tc.kind)
			first := sqIns(0, "abc")
			if tc.kind == SeqList {
				first = sqVals(0, "1", "2", "3")
			}
			if err := s.Splice(sqStamp("c", 1), nil, HLC{}, []SpliceOp{first}); err != nil {
				t.Fatal(err)
			}
			before := s.AppendBinary(nil)
			for _, base := range []VersionVector{nil, {}} {
				err := s.Splice(sqStamp("d", 1), base, HLC{}, tc.ops)
				if !errors.Is(err, tc.err) {
					t.Fatalf("base %v: err = %v, want %v", base, err, tc.err)
				}
				if string(s.AppendBinary(nil)) != string(before) {
					t.Fatalf("base %v: sequence changed by a failed splice", base)
				}
			}
		})
	}
}

func TestSpliceStampAndRetry(t *testing.T) {
	s := sqTextOf(t, "c", []SpliceOp{sqIns(0, "ab")})
	for _, st := range []Stamp{{Mid: 2, Clock: HLC{Wall: 1}}, {Client: "c", Clock: HLC{Wall: 1}}, {Client: "c", Mid: 2}} {
		if err := s.Splice(st, nil, HLC{}, []SpliceOp{sqIns(0, "x")}); !errors.Is(err, ErrSpliceStamp) {
			t.Fatalf("sqStamp %+v: err = %v", st, err)
		}
	}
	if err := s.Splice(sqStamp("c", 1), nil, HLC{}, []SpliceOp{sqIns(0, "x")}); err != nil {
		t.Fatal(err)
	}
	if got := s.Text(HLC{}); got != "ab" {
		t.Fatalf("retried mutation applied again: %q", got)
	}
}

func TestSpliceList(t *testing.T) {
	s := NewSequence(SeqList)
	steps := [][]SpliceOp{{sqVals(0, `1`, `"two"`, `{"x":3}`)}, {sqDel(0, 1)}, {sqVals(2, `[4]`, `null`)}}
	for i, ops := range steps {
		if err := s.Splice(sqStamp("c", uint64(i+1)), nil, HLC{}, ops); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := json.Marshal(s.Values(HLC{}))
	if string(got) != `["two",{"x":3},[4],null]` {
		t.Fatalf("Values = %s", got)
	}
	if s.Text(HLC{}) != "" || s.Kind() != SeqList {
		t.Fatal("list answers as text")
	}
	sqRoundTrip(t, s)
}

// concurrent applies each client's ops against base on a clone of s, and returns the
// replicas after applying them in both orders through Splice (rebased) and Merge.
func TestSpliceRebasedExamples(t *testing.T) {
	tests := []struct {
		name  string
		start string
		a, b  []SpliceOp
		want  []string // acceptable results
	}{
		{"two typists at one place", "AB", []SpliceOp{sqIns(1, "xx")}, []SpliceOp{sqIns(1, "yy")}, []string{"AxxyyB", "AyyxxB"}},
		{"replace and insert", "check valve now", []SpliceOp{sqRep(12, 3, "today")}, []SpliceOp{sqIns(6, "inlet ")},
			[]string{"check inlet valve today"}},
		{"insert into deleted range", "hello world", []SpliceOp{sqDel(6, 5)}, []SpliceOp{sqIns(6, "big ")}, []string{"hello big "}},
		{"both delete one char", "abc", []SpliceOp{sqDel(1, 1)}, []SpliceOp{sqDel(1, 1)}, []string{"ac"}},
		{"delete around insert", "abcdef", []SpliceOp{sqDel(1, 4)}, []SpliceOp{sqIns(3, "XY")}, []string{"aXYf"}},
		{"both append", "a", []SpliceOp{sqIns(1, "b")}, []SpliceOp{sqIns(1, "c")}, []string{"abc", "acb"}},
		{"both prepend", "a", []SpliceOp{sqIns(0, "b")}, []SpliceOp{sqIns(0, "c")}, []string{"bca", "cba"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			base := sqTextOf(t, "origin", []SpliceOp{sqIns(0, tc.start)})
			vv := VersionVector{"origin": 1}
			var results []string
			for _, order := range [][2]string{{"a", "b"}, {"b", "a"}} {
				s := base.Clone()
				for _, c := range order {
					ops := tc.a
					if c == "b" {
						ops = tc.b
					}
					if err := s.Splice(sqStamp(c, 1), vv, HLC{}, ops); err != nil {
						t.Fatal(err)
					}
				}
				results = append(results, s.Text(HLC{}))
			}
			// The same through merge of two replicas that each applied one side.
			ra, rb := base.Clone(), base.Clone()
			if err := ra.Splice(sqStamp("a", 1), nil, HLC{}, tc.a); err != nil {
				t.Fatal(err)
			}
			if err := rb.Splice(sqStamp("b", 1), nil, HLC{}, tc.b); err != nil {
				t.Fatal(err)
			}
			ab, ba := ra.Clone(), rb.Clone()
			ab.Merge(rb)
			ba.Merge(ra)
			results = append(results, ab.Text(HLC{}), ba.Text(HLC{}))
			for _, r := range results[1:] {
				if r != results[0] {
					t.Fatalf("replicas diverge: %q", results)
				}
			}
			ok := false
			for _, w := range tc.want {
				ok = ok || results[0] == w
			}
			if !ok {
				t.Fatalf("got %q, want one of %q", results[0], tc.want)
			}
		})
	}
}

func TestSpliceSeesOwnEdits(t *testing.T) {
	s := sqTextOf(t, "c", []SpliceOp{sqIns(0, "abc")})
	// Base {} does not include c's mid 1, but a client always sees its own edits.
	if err := s.Splice(sqStamp("c", 2), VersionVector{}, HLC{}, []SpliceOp{sqIns(3, "d")}); err != nil {
		t.Fatal(err)
	}
	// Another client with base {} sees nothing: its insert is concurrent with "abcd"
	// (same origins: ordered by actor name, "c" < "e").
	if err := s.Splice(sqStamp("e", 1), VersionVector{}, HLC{}, []SpliceOp{sqIns(0, ">")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Splice(sqStamp("f", 1), VersionVector{}, HLC{}, []SpliceOp{sqIns(1, "x")}); !errors.Is(err, ErrSpliceRange) {
		t.Fatalf("index past an empty base: %v", err)
	}
	if got := s.Text(HLC{}); got != "abcd>" {
		t.Fatalf("Text = %q", got)
	}
}

func TestFloorHidesOlderItems(t *testing.T) {
	s := sqTextOf(t, "c", []SpliceOp{sqIns(0, "old")}) // clock wall 1001
	floor := HLC{Wall: 1500, Actor: "server"}
	if s.Live(floor) || s.Text(floor) != "" {
		t.Fatal("items below the floor are visible")
	}
	if err := s.Splice(sqStamp("d", 1), nil, floor, []SpliceOp{sqIns(1, "x")}); !errors.Is(err, ErrSpliceRange) {
		t.Fatalf("hidden items counted in the index space: %v", err)
	}
	st := Stamp{Client: "d", Mid: 1, Clock: HLC{Wall: 2000, Actor: "d"}}
	if err := s.Splice(st, nil, floor, []SpliceOp{sqIns(0, "new")}); err != nil {
		t.Fatal(err)
	}
	if got := s.Text(floor); got != "new" {
		t.Fatalf("Text(floor) = %q", got)
	}
	if got := s.Text(HLC{}); got != "newold" {
		t.Fatalf("Text(0) = %q", got)
	}
	if !s.Live(floor) || s.Live(HLC{Wall: 3000}) {
		t.Fatal("Live wrong")
	}
	st = Stamp{Client: "d", Mid: 2, Clock: HLC{Wall: 2001, Actor: "d"}}
	if err := s.Splice(st, nil, floor, []SpliceOp{sqDel(0, 1), sqIns(2, "!")}); err != nil {
		t.Fatal(err)
	}
	if got := s.Text(floor); got != "ew!" {
		t.Fatalf("Text(floor) = %q", got)
	}
	sqRoundTrip(t, s)
}

func TestLiveAfterDeletingEverything(t *testing.T) {
	s := NewSequence(SeqText)
	if s.Live(HLC{}) {
		t.Fatal("empty sequence is live")
	}
	s = sqTextOf(t, "c", []SpliceOp{sqIns(0, "ab")}, []SpliceOp{sqDel(0, 2)})
	if !s.Live(HLC{}) || s.Text(HLC{}) != "" {
		t.Fatal("a field whose text was deleted must materialise as \"\"")
	}
	s.Compact(Horizon{Seen: VersionVector{"c": 2}})
	if !s.Live(HLC{}) || s.Live(HLC{Wall: 5000}) {
		t.Fatal("compaction changed Live")
	}
}

func TestCompactKeepsTextAndShrinks(t *testing.T) {
	s := sqTextOf(t, "c", []SpliceOp{sqIns(0, "hello brave new world")}, []SpliceOp{sqDel(6, 6)},
		[]SpliceOp{sqIns(6, "old ")}, []SpliceOp{sqDel(0, 1), sqIns(0, "J")})
	other := s.Clone()
	if err := other.Splice(sqStamp("d", 1), VersionVector{"c": 2}, HLC{}, []SpliceOp{sqIns(6, "dear ")}); err != nil {
		t.Fatal(err)
	}
	want := s.Text(HLC{})
	before := len(s.AppendBinary(nil))
	s.Compact(Horizon{Clock: HLC{Wall: 5000}, Seen: VersionVector{"c": 4}})
	if got := s.Text(HLC{}); got != want {
		t.Fatalf("Text after Compact = %q, want %q", got, want)
	}
	if after := len(s.AppendBinary(nil)); after >= before {
		t.Fatalf("encoding did not shrink: %d -> %d", before, after)
	}
	sqRoundTrip(t, s)
	// A replica that did not compact, with a concurrent insert next to the gap,
	// still converges with the compacted one.
	a, b := s.Clone(), other.Clone()
	a.Merge(other)
	b.Merge(s)
	if a.Text(HLC{}) != b.Text(HLC{}) || a.Text(HLC{}) != "Jello old dear new world" {
		t.Fatalf("after merge: %q vs %q", a.Text(HLC{}), b.Text(HLC{}))
	}
	// New splices against a base covering the horizon still work.
	if err := s.Splice(sqStamp("e", 1), VersionVector{"c": 4}, HLC{}, []SpliceOp{sqRep(0, 1, "H")}); err != nil {
		t.Fatal(err)
	}
	if got := s.Text(HLC{}); got != "Hello old new world" {
		t.Fatalf("Text = %q", got)
	}
}

func TestMergeKindMismatchAndSelf(t *testing.T) {
	s := sqTextOf(t, "c", []SpliceOp{sqIns(0, "ab")})
	before := s.AppendBinary(nil)
	s.Merge(s)
	s.Merge(nil)
	s.Merge(NewSequence(SeqList))
	if string(s.AppendBinary(nil)) != string(before) {
		t.Fatal("merge changed s")
	}
}

// sqRoundTrip checks that s survives encoding, canonically.
func sqRoundTrip(t *testing.T, s *Sequence) {
	t.Helper()
	enc := s.AppendBinary(nil)
	d, err := DecodeSequence(enc)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !d.Equal(s) || !s.Equal(d) || string(d.AppendBinary(nil)) != string(enc) {
		t.Fatal("round trip changed the sequence")
	}
	if d.Text(HLC{}) != s.Text(HLC{}) || len(d.Values(HLC{})) != len(s.Values(HLC{})) {
		t.Fatal("round trip changed the content")
	}
}

func TestInsLogMatchesSlice(t *testing.T) {
	var l insLog
	var plain []insRec
	seq, mid := uint32(0), uint64(0)
	for i := 0; i < 1000; i++ {
		seq += uint32(1 + i%7)
		mid += uint64(i % 3)
		r := insRec{seq: seq, mid: mid, wall: int64(1000 + i*i%97), counter: uint32(i % 5), cact: uint32(i % 4)}
		l.Append(r)
		plain = append(plain, r)
		for _, j := range []int{0, i / 2, i} {
			if l.At(j) != plain[j] {
				t.Fatalf("At(%d) after %d appends = %+v, want %+v", j, i+1, l.At(j), plain[j])
			}
		}
	}
	for q := uint32(0); q < seq+3; q += 3 {
		got := l.Search(func(r *insRec) bool { return r.seq > q })
		want := len(plain)
		for i, r := range plain {
			if r.seq > q {
				want = i
				break
			}
		}
		if got != want {
			t.Fatalf("Search(seq > %d) = %d, want %d", q, got, want)
		}
	}
	i := 0
	l.Each(func(r insRec) {
		if r != plain[i] {
			t.Fatalf("Each record %d differs", i)
		}
		i++
	})
	c := l.Clone()
	c.Append(insRec{seq: seq + 1})
	if l.Len() != len(plain) || c.Len() != len(plain)+1 {
		t.Fatal("Clone shares state")
	}
}

func TestDelLogMatchesSlice(t *testing.T) {
	var l delLog
	var plain []delRec
	for i := 0; i < 300; i++ {
		r := delRec{mid: uint64(i * 3), dc: uint32(i % 3), tc: uint32(i % 2), ts: uint32((i * 37) % 101), n: uint32(1 + i%4)}
		if i%5 == 4 {
			l.Last().n++
			plain[len(plain)-1].n++
			continue
		}
		l.Append(r)
		plain = append(plain, r)
	}
	var got []delRec
	l.Each(func(d *delRec) { got = append(got, *d) })
	if len(got) != len(plain) || l.Len() != len(plain) {
		t.Fatalf("%d records, want %d", len(got), len(plain))
	}
	for i := range got {
		if got[i] != plain[i] {
			t.Fatalf("record %d = %+v, want %+v", i, got[i], plain[i])
		}
	}
	c := l.Clone()
	c.Append(delRec{n: 1})
	if l.Len() != len(plain) {
		t.Fatal("Clone shares state")
	}
}

func TestServerStampedClock(t *testing.T) {
	s := NewSequence(SeqText)
	st := Stamp{Client: "c", Mid: 1, Clock: HLC{Wall: 50, Actor: "server"}}
	if err := s.Splice(st, nil, HLC{}, []SpliceOp{sqIns(0, "hi")}); err != nil {
		t.Fatal(err)
	}
	if !s.Live(HLC{Wall: 49}) || s.Live(HLC{Wall: 50, Actor: "server"}) || s.Text(HLC{Wall: 50, Actor: "server"}) != "" {
		t.Fatal("the item's clock is not the stamp's")
	}
	o := NewSequence(SeqText)
	o.Merge(s)
	if o.Text(HLC{Wall: 49, Actor: "zz"}) != "hi" {
		t.Fatal("merge lost the clock")
	}
	sqRoundTrip(t, o)
}

func TestZeroSequenceDoesNotPanic(t *testing.T) {
	var s Sequence
	if err := s.Splice(sqStamp("c", 1), nil, HLC{}, []SpliceOp{sqIns(0, "x")}); !errors.Is(err, ErrSpliceKind) {
		t.Fatalf("err = %v", err)
	}
	s.Merge(&Sequence{})
	if s.Text(HLC{}) != "" || s.Live(HLC{}) {
		t.Fatal("zero sequence has content")
	}
}
