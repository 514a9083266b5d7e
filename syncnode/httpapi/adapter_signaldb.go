package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/feed"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// sdbChanges is SignalDB's changeset. The adapter serves every changed document in
// added (SignalDB replaces the item, so fields removed on the server go away too)
// and deleted ones in removed.
type sdbChanges struct {
	Added    []object `json:"added"`
	Modified []object `json:"modified"`
	Removed  []object `json:"removed"`
}

// sdbPull is the data of a stream event; a pull answer from a checkpoint has the
// same shape plus "hasMore" (signaldbPull).
type sdbPull struct {
	Changes    sdbChanges `json:"changes"`
	Checkpoint string     `json:"checkpoint"`
}

// sdbPush is the body of a SignalDB push.
type sdbPush struct {
	Changes struct {
		Added          []json.RawMessage   `json:"added"`
		Modified       []json.RawMessage   `json:"modified"`
		Removed        []json.RawMessage   `json:"removed"`
		ModifiedFields map[string][]string `json:"modifiedFields"`
	} `json:"changes"`
	RawChanges []json.RawMessage `json:"rawChanges"`
}

func (a *API) signaldbRoutes() {
	a.route("GET /v1/signaldb/{collection}/pull", a.handle(auth.Read, a.signaldbPull))
	a.route("POST /v1/signaldb/{collection}/push", a.handle(auth.Write, a.signaldbPush))
	a.route("GET /v1/signaldb/{collection}/stream", a.handle(auth.Read, func(w http.ResponseWriter, req *request) error {
		resync := func(cursor uint64) any { return sdbPull{Changes: emptySdbChanges(), Checkpoint: feed.Encode(cursor)} }
		return a.adapterStream("signaldb", resync, sdbEncoder(req.collection))(w, req)
	}))
}

func emptySdbChanges() sdbChanges {
	return sdbChanges{Added: []object{}, Modified: []object{}, Removed: []object{}}
}

// signaldbPull serves one page of the collection's changes after the checkpoint,
// within the byte budget (budgetPage): {"changes": {"added", "modified",
// "removed"}, "checkpoint", "hasMore"}, or without a checkpoint {"items",
// "checkpoint", "hasMore"}. While hasMore, the glue pulls again from the checkpoint
// and hands SignalDB the pages combined. The answer is written as it is encoded.
func (a *API) signaldbPull(w http.ResponseWriter, req *request) error {
	cp := req.r.URL.Query().Get("checkpoint")
	after, err := feed.Parse(cp)
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid_checkpoint", "%v", err)
	}
	if err := a.retention.ack(req.r, req.principal, req.collection.Name, after); err != nil {
		return err
	}
	page, _, err := a.budgetPage(req.r.Context(), req.collection.Name, after, a.pageRoom(), true)
	if err != nil {
		return err
	}
	fields := req.collection.Fields
	return a.answer(w, req.r).send(func(j *jsonAnswer) error {
		if cp == "" {
			return sdbItemsAnswer(j, page, fields)
		}
		return sdbChangesAnswer(j, page, fields)
	})
}

// sdbItemsAnswer writes a pull answer without a checkpoint: the page's documents.
func sdbItemsAnswer(j *jsonAnswer, page store.Page, fields crdt.Fields) error {
	j.raw(`{"items":`)
	if err := j.docs(page.Records, fields, present); err != nil {
		return err
	}
	return sdbAnswerEnd(j, page)
}

// sdbChangesAnswer writes a pull answer from a checkpoint: every changed document
// in added, deleted ones in removed (as sdbEncoder).
func sdbChangesAnswer(j *jsonAnswer, page store.Page, fields crdt.Fields) error {
	j.raw(`{"changes":{"added":`)
	if err := j.docs(page.Records, fields, present); err != nil {
		return err
	}
	j.raw(`,"modified":[],"removed":`)
	removed := func(r store.Record) (any, error) { return object{"id": r.ID}, nil }
	if err := j.array(page.Records, absent, removed); err != nil {
		return err
	}
	j.raw("}")
	return sdbAnswerEnd(j, page)
}

// sdbAnswerEnd writes the checkpoint and hasMore, and closes the answer.
func sdbAnswerEnd(j *jsonAnswer, page store.Page) error {
	j.raw(`,"checkpoint":`)
	if err := j.value(feed.Encode(page.Next)); err != nil {
		return err
	}
	j.raw(`,"hasMore":` + strconv.FormatBool(page.HasMore) + "}\n")
	return nil
}

func sdbEncoder(coll merge.Collection) pageEncoder {
	return func(page store.Page) (any, error) {
		out := sdbPull{Changes: emptySdbChanges(), Checkpoint: feed.Encode(page.Next)}
		for _, rec := range page.Records {
			if rec.Deleted {
				out.Changes.Removed = append(out.Changes.Removed, object{"id": rec.ID})
				continue
			}
			d, err := baseDoc(rec, coll.Fields)
			if err != nil {
				return nil, err
			}
			out.Changes.Added = append(out.Changes.Added, d)
		}
		return out, nil
	}
}

// baseDoc is libraryDoc plus BaseField when the collection has typed paths.
func baseDoc(rec store.Record, fields crdt.Fields) (object, error) {
	d, err := libraryDoc(rec)
	if err != nil {
		return nil, err
	}
	base := object{}
	for p, t := range fields {
		if t == crdt.FieldLWW {
			continue
		}
		if v, ok := lookupPath(d, p); ok {
			base[p] = v
		}
	}
	if len(fields) > 0 {
		d[BaseField] = string(mustJSON(base))
	}
	return d, nil
}

func lookupPath(d object, path string) (any, bool) {
	var cur any = d
	for _, k := range strings.Split(path, ".") {
		o, ok := cur.(object)
		if !ok {
			return nil, false
		}
		if cur, ok = o[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func (a *API) signaldbPush(w http.ResponseWriter, req *request) error {
	var body sdbPush
	if err := a.decodeBody(req.r, &body); err != nil {
		return err
	}
	var edits []adapterEdit
	c := body.Changes
	for _, group := range []struct {
		items []json.RawMessage
		kind  string
	}{{c.Added, "added"}, {c.Modified, "modified"}, {c.Removed, "removed"}} {
		for i, raw := range group.items {
			e, err := sdbEdit(group.kind, i, raw, c.ModifiedFields)
			if err != nil {
				return err
			}
			edits = append(edits, e)
		}
	}
	if err := a.pushEdits(req.r.Context(), req, edits); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{})
	return nil
}

// sdbEdit reads one item of a SignalDB changeset.
func sdbEdit(kind string, i int, raw json.RawMessage, fields map[string][]string) (adapterEdit, error) {
	item, err := rowObject(raw)
	id, _ := item["id"].(string)
	if err != nil || item == nil || id == "" {
		return adapterEdit{}, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "changes.%s[%d]: want an item object with a string id", kind, i).
			with("item", fmt.Sprintf("%s[%d]", kind, i))
	}
	switch kind {
	case "removed":
		return adapterEdit{id: id, deleted: true}, nil
	case "added":
		return adapterEdit{id: id, next: item}, nil
	}
	e := adapterEdit{id: id, next: item, baseIsCurrent: true, only: fields[id]}
	e.baseVersion, _ = item[VersionField].(string)
	if e.typedBase, err = parseBase(item); err != nil {
		return adapterEdit{}, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "changes.%s[%d]: %s: %v", kind, i, BaseField, err)
	}
	return e, nil
}

// parseBase decodes BaseField of an item (absent: nil).
func parseBase(item object) (object, error) {
	s, ok := item[BaseField].(string)
	if !ok || s == "" {
		return nil, nil
	}
	return decodeObject([]byte(s))
}
