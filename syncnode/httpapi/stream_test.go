package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// sseEvent is one Server-Sent Event as a client sees it.
type sseEvent struct {
	event, id, data string
}

// openStream connects to /v1/stream and returns a channel of its events.
func (n *testNode) openStream(t *testing.T, query, lastEventID string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", n.srv.URL+"/v1/stream?"+query, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 64<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					out <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return out
}

func next(t *testing.T, events <-chan sseEvent) (sseEvent, protocol.StreamChange) {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("stream ended")
		}
		var sc protocol.StreamChange
		if err := json.Unmarshal([]byte(ev.data), &sc); err != nil {
			t.Fatalf("event data %q: %v", ev.data, err)
		}
		return ev, sc
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
	}
	return sseEvent{}, protocol.StreamChange{}
}

func TestStreamDeliversLiveChangesAndResumes(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		n.push("c1", `{"mutations":[{"id":"a","mid":1,"set":{"x":1}}]}`)
		events := n.openStream(t, "collections=orders", "")
		ev, sc := next(t, events) // the backlog first
		if ev.event != "change" || sc.Collection != "orders" || len(sc.Changes) != 1 || sc.Changes[0].ID != "a" {
			t.Fatalf("backlog event %+v %+v", ev, sc)
		}
		n.push("c1", `{"mutations":[{"id":"b","mid":2,"set":{"x":2}}]}`)
		ev2, sc2 := next(t, events) // then live, without any pull
		if sc2.Changes[0].ID != "b" || string(sc2.Changes[0].Doc) != `{"id":"b","x":2}` {
			t.Fatalf("live event %+v", sc2)
		}
		n.push("c1", `{"mutations":[{"id":"c","mid":3,"set":{"x":3}}]}`)
		resumed := n.openStream(t, "collections=orders", ev2.id) // resume after b
		_, sc3 := next(t, resumed)
		if len(sc3.Changes) != 1 || sc3.Changes[0].ID != "c" {
			t.Fatalf("resumed stream sent %+v, want only c", sc3.Changes)
		}
		_ = ev
	})
}

func TestStreamFromPullCheckpointHasNoGap(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		n.push("c1", `{"mutations":[{"id":"a","mid":1,"set":{"x":1}}]}`)
		var page protocol.PullResponse
		n.do("GET", "/v1/collections/orders/pull", "", "", &page)
		n.push("c1", `{"mutations":[{"id":"b","mid":2,"set":{"x":2}}]}`) // between pull and stream
		events := n.openStream(t, "collections=orders&checkpoint="+page.Checkpoint, "")
		_, sc := next(t, events)
		if len(sc.Changes) != 1 || sc.Changes[0].ID != "b" {
			t.Fatalf("stream from checkpoint sent %+v, want b", sc.Changes)
		}
	})
}

func TestStreamRefusesBadRequests(t *testing.T) {
	eachStore(t, func(t *testing.T, st store.Store) {
		n := newTestNode(t, st)
		for q, want := range map[string]int{
			"":                                 400,
			"collections=nope":                 404,
			"collections=orders&checkpoint=zz": 400,
		} {
			var eb protocol.ErrorBody
			if s := n.do("GET", "/v1/stream?"+q, "", "", &eb); s != want || eb.Error.Code == "" {
				t.Errorf("stream?%s: %d %+v, want %d", q, s, eb, want)
			}
		}
		req, _ := http.NewRequest("GET", n.srv.URL+"/v1/stream?collections=orders", nil)
		req.Header.Set("Last-Event-ID", "garbage")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("bad Last-Event-ID: %d", resp.StatusCode)
		}
	})
}
