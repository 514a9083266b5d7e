package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/httpapi"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// pageBudget is the test nodes' MaxPageBytes: two documents of docPad fit, three
// do not.
const (
	pageBudget = 25 << 10
	docPad     = 10 << 10
)

// rawGet sends a GET and returns the status and the body as read (err: the body
// was cut).
func (n *testNode) rawGet(path string) (int, []byte, error) {
	n.t.Helper()
	resp, err := http.Get(n.srv.URL + path)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// getPage GETs path and decodes the answer into out; it returns the body's size.
func (n *testNode) getPage(path string, out any) int {
	n.t.Helper()
	s, body, err := n.rawGet(path)
	if err != nil || s != 200 {
		n.t.Fatalf("GET %s: %d %v %.200s", path, s, err, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		n.t.Fatalf("GET %s: %v", path, err)
	}
	return len(body)
}

// pushBig writes ids to coll, each with a docPad-long field, one push each.
func (n *testNode) pushBig(coll, tag string, ids ...string) {
	n.t.Helper()
	for i, id := range ids {
		body := fmt.Sprintf(`{"mutations":[{"id":%q,"mid":%d,"set":{"status":"open","tag":%q,"pad":%q}}]}`,
			id, nextMid(), tag+id, strings.Repeat(string(rune('a'+i%26)), docPad))
		if s, _, bad := n.pushTo(coll, "big", body); s != 200 {
			n.t.Fatalf("push %s/%s: %d %+v", coll, id, s, bad)
		}
	}
}

// deleteDoc deletes id in coll.
func (n *testNode) deleteDoc(coll, id string) {
	n.t.Helper()
	if s, _, bad := n.pushTo(coll, "big", fmt.Sprintf(`{"mutations":[{"id":%q,"mid":%d,"delete":true}]}`, id, nextMid())); s != 200 {
		n.t.Fatalf("delete %s/%s: %d %+v", coll, id, s, bad)
	}
}

var mids int

func nextMid() int { mids++; return mids }

// pagedNodes returns a node with a small page budget and one without, on st.
func pagedNodes(t *testing.T, st store.Store) (paged, whole *testNode) {
	paged = newTestNodeWith(t, st, func(c *httpapi.Config) { c.MaxPageBytes = pageBudget; c.MaxBodyBytes = 64 << 10 })
	whole = newTestNodeWith(t, st, func(c *httpapi.Config) { c.MaxPageBytes = 1 << 30; c.MaxBodyBytes = 64 << 10 })
	return paged, whole
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%02d", prefix, i)
	}
	return out
}

type sdbAnswer struct {
	Items   []map[string]any
	Changes struct {
		Added, Modified, Removed []map[string]any
	}
	Checkpoint string
	HasMore    *bool
}

// sdbFollow pulls from checkpoint cp while hasMore, checking every page, and folds
// the pages into docs as the glue does (later pages win per id). It returns the
// number of pages and the last checkpoint.
func sdbFollow(t *testing.T, n *testNode, cp string, docs map[string]map[string]any, between func(page int)) (int, string) {
	for pages := 1; ; pages++ {
		var a sdbAnswer
		size := n.getPage("/v1/signaldb/orders/pull?checkpoint="+cp, &a)
		if a.HasMore == nil {
			t.Fatalf("page %d has no hasMore", pages)
		}
		got := append(a.Items, a.Changes.Added...)
		if len(got) > 2 || size > pageBudget+docPad {
			t.Fatalf("page %d: %d documents, %d removals, %d bytes under a %d-byte budget", pages, len(got), len(a.Changes.Removed), size, pageBudget)
		}
		if cp == "" {
			clear(docs)
		}
		for _, d := range got {
			docs[d["id"].(string)] = d
		}
		for _, r := range a.Changes.Removed {
			delete(docs, r["id"].(string))
		}
		if cp = a.Checkpoint; !*a.HasMore {
			return pages, cp
		}
		between(pages)
	}
}

// TestSignalDBPullIsPagedWithinTheBudget: a pull of many large documents comes in
// pages within the byte budget, and following them (while documents change between
// pages) yields what one pull of the whole collection yields, then resumes after it.
func TestSignalDBPullIsPagedWithinTheBudget(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		paged, whole := pagedNodes(t, st)
		paged.pushBig("orders", "v1", ids("d", 12)...)
		paged.deleteDoc("orders", "d03")
		docs := map[string]map[string]any{}
		pages, cp := sdbFollow(t, paged, "", docs, func(page int) {
			if page == 2 { // one served already, one not yet, one deleted after it was served
				paged.pushBig("orders", "v2", "d00", "d09")
				paged.deleteDoc("orders", "d01")
			}
		})
		var one sdbAnswer
		whole.getPage("/v1/signaldb/orders/pull", &one)
		if pages < 5 || *one.HasMore {
			t.Fatalf("%d pages under the budget; the whole pull has more: %v", pages, *one.HasMore)
		}
		want := map[string]map[string]any{}
		for _, d := range one.Items {
			want[d["id"].(string)] = d
		}
		if len(want) != 10 || want["d00"]["tag"] != "v2d00" || !reflect.DeepEqual(docs, want) {
			t.Fatalf("the pages yield %d documents, the whole pull %d (d00 %v): they differ", len(docs), len(want), want["d00"]["tag"])
		}
		paged.pushBig("orders", "v3", "d05")
		paged.deleteDoc("orders", "d06")
		var next sdbAnswer
		paged.getPage("/v1/signaldb/orders/pull?checkpoint="+cp, &next)
		if len(next.Changes.Added) != 1 || next.Changes.Added[0]["tag"] != "v3d05" || len(next.Changes.Removed) != 1 || *next.HasMore {
			t.Fatalf("the pull after the pages: %+v", next.Changes)
		}
	})
}

type wmAnswer struct {
	Changes map[string]struct {
		Created, Updated []map[string]any
		Deleted          []string
	}
	Timestamp uint64
	HasMore   *bool
}

// wmFold folds WatermelonDB pages the way the glue does: later pages win per id, a
// record created in an earlier page stays created, and an id is in one list only.
type wmFold map[string]map[string]wmRow

type wmRow struct {
	kind string // created, updated or deleted
	doc  map[string]any
}

func (f wmFold) add(a wmAnswer) {
	for table, ch := range a.Changes {
		if f[table] == nil {
			f[table] = map[string]wmRow{}
		}
		rows := f[table]
		for kind, docs := range map[string][]map[string]any{"created": ch.Created, "updated": ch.Updated} {
			for _, d := range docs {
				id := d["id"].(string)
				if rows[id].kind == "created" {
					kind = "created"
				}
				rows[id] = wmRow{kind: kind, doc: d}
			}
		}
		for _, id := range ch.Deleted {
			rows[id] = wmRow{kind: "deleted"}
		}
	}
}

// live returns the documents the folded pages leave in table.
func (f wmFold) live(table string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range f[table] {
		if r.kind != "deleted" {
			out[id] = r.doc
		}
	}
	return out
}

// wmFollow pulls from ts while hasMore, checking every page; it returns the
// number of pages, how many served both tables, and the last timestamp.
func wmFollow(t *testing.T, n *testNode, ts uint64, f wmFold, between func(page int)) (pages, mixed int, last uint64) {
	for pages = 1; ; pages++ {
		var a wmAnswer
		q := "/v1/watermelon/pull?tables=tickets,orders"
		if ts != 0 {
			q += fmt.Sprintf("&last_pulled_at=%d", ts)
		}
		size := n.getPage(q, &a)
		docs, tables := 0, 0
		for _, ch := range a.Changes {
			docs += len(ch.Created) + len(ch.Updated)
			if len(ch.Created)+len(ch.Updated)+len(ch.Deleted) > 0 {
				tables++
			}
		}
		if a.HasMore == nil || docs > 2 || size > pageBudget+docPad || a.Timestamp == 0 {
			t.Fatalf("page %d: %d documents, %d bytes under a %d-byte budget, timestamp %d, hasMore given %v", pages, docs, size, pageBudget, a.Timestamp, a.HasMore != nil)
		}
		if tables == 2 {
			mixed++
		}
		f.add(a)
		if ts = a.Timestamp; !*a.HasMore {
			return pages, mixed, ts
		}
		between(pages)
	}
}

// TestWatermelonPullIsPagedWithinTheBudget: a pull of two tables of large documents
// comes in pages within the byte budget across tables; the timestamp resumes each
// table where the page stopped, and following the pages (while documents change
// between them) yields what one pull of both tables yields.
func TestWatermelonPullIsPagedWithinTheBudget(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		paged, whole := pagedNodes(t, st)
		paged.pushBig("orders", "v1", ids("o", 6)...)
		paged.pushBig("tickets", "v1", ids("t", 6)...)
		paged.deleteDoc("tickets", "t02")
		f := wmFold{}
		pages, mixed, ts := wmFollow(t, paged, 0, f, func(page int) {
			if page == 2 {
				paged.pushBig("orders", "v2", "o00")
				paged.deleteDoc("orders", "o01")
				paged.pushBig("tickets", "v2", "t00")
			}
		})
		var one wmAnswer
		whole.getPage("/v1/watermelon/pull?tables=orders,tickets", &one)
		if pages < 5 || mixed == 0 || *one.HasMore {
			t.Fatalf("%d pages, %d with both tables; the whole pull has more: %v", pages, mixed, *one.HasMore)
		}
		for table, n := range map[string]int{"orders": 5, "tickets": 5} {
			want := map[string]map[string]any{}
			for _, d := range one.Changes[table].Created {
				want[d["id"].(string)] = d
			}
			if got := f.live(table); len(want) != n || !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: the pages yield %d documents, the whole pull %d: they differ", table, len(got), len(want))
			}
		}
		if o := f["orders"]; o["o00"].kind != "created" || o["o00"].doc["tag"] != "v2o00" || o["o01"].kind != "deleted" {
			t.Fatalf("created, then updated: %s %v; created, then deleted: %s", o["o00"].kind, o["o00"].doc["tag"], o["o01"].kind)
		}
		// Orders fill most of the next page; the ticket, too big for what is left,
		// comes in a page of its own.
		paged.pushBig("orders", "v3", "o02", "o03")
		paged.pushBig("tickets", "v3", "t04")
		g := wmFold{}
		pages, _, _ = wmFollow(t, paged, ts, g, func(int) {})
		o, tk := g["orders"], g.live("tickets")
		if pages != 2 || len(o) != 2 || o["o02"].kind != "updated" || len(tk) != 1 || tk["t04"]["tag"] != "v3t04" {
			t.Fatalf("the pull after the pages: %d pages, orders %v, tickets %v", pages, o, tk)
		}
	})
}

// failingStore fails Changes of orders with err, or serves a record whose stored
// document is not an object (bad) among the others.
type failingStore struct {
	store.Store
	err error
	bad string
}

func (s failingStore) Changes(ctx context.Context, coll string, after uint64, limit int) (store.Page, error) {
	if coll != "orders" {
		return s.Store.Changes(ctx, coll, after, limit)
	}
	if s.err != nil {
		return store.Page{}, s.err
	}
	p, err := s.Store.Changes(ctx, coll, after, limit)
	for i, r := range p.Records {
		if r.ID == s.bad {
			p.Records[i].Doc = []byte(`[1]`)
		}
	}
	return p, err
}

// TestAdapterPullErrors: an error before the answer's first byte is a JSON error;
// one after it cuts the body, so that no client takes a part for the whole.
func TestAdapterPullErrors(t *testing.T) {
	st := openStore(t)
	writer := newTestNode(t, st)
	writer.pushBig("orders", "v1", ids("d", 8)...)
	paths := []string{"/v1/signaldb/orders/pull", "/v1/signaldb/orders/pull?checkpoint=c1.0", "/v1/watermelon/pull?tables=orders"}
	for _, c := range []struct {
		name   string
		st     failingStore
		status int
		code   string
	}{
		{"store unavailable", failingStore{Store: st, err: fmt.Errorf("test: %w", store.ErrUnavailable)}, 503, protocol.CodeUnavailable},
		{"first document broken", failingStore{Store: st, bad: "d00"}, 500, protocol.CodeInternal},
		{"a later document broken", failingStore{Store: st, bad: "d07"}, 200, ""},
	} {
		n := newTestNode(t, c.st)
		for _, path := range paths {
			s, body, err := n.rawGet(path)
			var eb protocol.ErrorBody
			_ = json.Unmarshal(body, &eb)
			switch {
			case s != c.status || eb.Error.Code != c.code:
				t.Errorf("%s: %s: %d %q, want %d %q", c.name, path, s, eb.Error.Code, c.status, c.code)
			case c.status == 200 && err == nil:
				t.Errorf("%s: %s: a body of %d bytes was read whole", c.name, path, len(body))
			case c.status != 200 && err != nil:
				t.Errorf("%s: %s: %v", c.name, path, err)
			}
		}
	}
}

// pushSmall writes n small documents named prefix00… to coll, 50 per push.
func (n *testNode) pushSmall(coll, prefix string, count int) {
	n.t.Helper()
	for i := 0; i < count; i += 50 {
		var ms []string
		for j := i; j < min(i+50, count); j++ {
			ms = append(ms, fmt.Sprintf(`{"id":"%s%02d","mid":%d,"set":{"status":"open"}}`, prefix, j, nextMid()))
		}
		if s, _, bad := n.pushTo(coll, "small", `{"mutations":[`+strings.Join(ms, ",")+`]}`); s != 200 {
			n.t.Fatalf("push %s: %d %+v", coll, s, bad)
		}
	}
}

// TestAdapterPullPagesOfSmallDocuments: small documents are read in several
// batches into one page, which stops at MaxPullLimit documents, across tables too.
func TestAdapterPullPagesOfSmallDocuments(t *testing.T) {
	n := newTestNodeWith(t, openStore(t), func(c *httpapi.Config) { c.MaxPullLimit = 40 })
	n.pushSmall("orders", "o", 100)
	n.pushSmall("tickets", "t", 30)
	var sizes []int
	for cp, more := "", true; more; {
		var a sdbAnswer
		n.getPage("/v1/signaldb/orders/pull?checkpoint="+cp, &a)
		sizes = append(sizes, len(a.Items)+len(a.Changes.Added))
		cp, more = a.Checkpoint, *a.HasMore
	}
	if fmt.Sprint(sizes) != "[40 40 20]" {
		t.Fatalf("signaldb pages of %v documents, want [40 40 20]", sizes)
	}
	sizes = nil
	for ts, more := "", true; more; {
		var a wmAnswer
		n.getPage("/v1/watermelon/pull?tables=orders,tickets"+ts, &a)
		k := 0
		for _, ch := range a.Changes {
			k += len(ch.Created) + len(ch.Updated)
		}
		sizes = append(sizes, k)
		ts, more = fmt.Sprintf("&last_pulled_at=%d", a.Timestamp), *a.HasMore
	}
	if fmt.Sprint(sizes) != "[40 40 40 10]" {
		t.Fatalf("watermelon pages of %v documents, want [40 40 40 10]", sizes)
	}
}

// TestRxDBPullStopsAtTheBudget: an RxDB pull of large documents stops at the byte
// budget before batchSize with hasMore, and following the checkpoints (as the glue
// does to fill its batch) yields every document once.
func TestRxDBPullStopsAtTheBudget(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		paged, _ := pagedNodes(t, st)
		all := ids("r", 7)
		paged.pushBig("orders", "v1", all...)
		var got []string
		checkpoint, pages := "", 0
		for more := true; more; pages++ {
			var page struct {
				Documents  []map[string]any
				Checkpoint json.RawMessage
				HasMore    bool
			}
			path := "/v1/rxdb/orders/pull?batchSize=100"
			if checkpoint != "" {
				path += "&checkpoint=" + url.QueryEscape(checkpoint)
			}
			if size := paged.getPage(path, &page); size > pageBudget+(2<<10) {
				t.Fatalf("page %d is %d bytes, budget %d", pages, size, pageBudget)
			}
			for _, d := range page.Documents {
				got = append(got, d["id"].(string))
			}
			checkpoint, more = string(page.Checkpoint), page.HasMore
		}
		if pages < 3 || !reflect.DeepEqual(got, all) {
			t.Fatalf("%d pages, documents %v, want %v in at least 3 pages", pages, got, all)
		}
	})
}
