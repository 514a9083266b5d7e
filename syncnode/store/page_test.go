package store

import "testing"

func TestPageWithin(t *testing.T) {
	big := make([]byte, 1000)
	p := Page{Records: []Record{{ID: "a", Doc: big, Seq: 3}, {ID: "b", Doc: big, Seq: 5}, {ID: "c", Doc: big, Seq: 9}}, Next: 12}
	for _, c := range []struct {
		budget, records int
		next            uint64
		more            bool
	}{{0, 3, 12, false}, {1 << 20, 3, 12, false}, {2200, 2, 5, true}, {1100, 1, 3, true}, {10, 1, 3, true}} {
		got := p.Within(c.budget)
		if len(got.Records) != c.records || got.Next != c.next || got.HasMore != c.more {
			t.Errorf("Within(%d) = %d records, next %d, more %v; want %d, %d, %v",
				c.budget, len(got.Records), got.Next, got.HasMore, c.records, c.next, c.more)
		}
	}
}
