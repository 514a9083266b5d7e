package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
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

// sdbPull is the pull answer (and stream event data) with a checkpoint.
type sdbPull struct {
	Changes    sdbChanges `json:"changes"`
	Checkpoint string     `json:"checkpoint"`
}

// sdbItems is the pull answer without a checkpoint: the whole collection.
type sdbItems struct {
	Items      []object `json:"items"`
	Checkpoint string   `json:"checkpoint"`
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

func (a *API) signaldbPull(w http.ResponseWriter, req *request) error {
	cp, given := req.r.URL.Query()["checkpoint"]
	after, err := feed.Parse(strings.Join(cp, ""))
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid_checkpoint", "%v", err)
	}
	enc := sdbEncoder(req.collection)
	all := sdbPull{Changes: emptySdbChanges(), Checkpoint: feed.Encode(after)}
	for more := true; more; {
		page, err := a.cfg.Store.Changes(req.r.Context(), req.collection.Name, after, a.cfg.MaxPullLimit)
		if err != nil {
			return err
		}
		more, after = page.HasMore, max(after, page.Next)
		part, err := enc(page)
		if err != nil {
			return err
		}
		p := part.(sdbPull)
		all.Changes.Added = append(all.Changes.Added, p.Changes.Added...)
		all.Changes.Removed = append(all.Changes.Removed, p.Changes.Removed...)
		all.Checkpoint = p.Checkpoint
	}
	if !given || len(cp) == 0 || cp[0] == "" {
		writeJSON(w, http.StatusOK, sdbItems{Items: all.Changes.Added, Checkpoint: all.Checkpoint})
		return nil
	}
	writeJSON(w, http.StatusOK, all)
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
