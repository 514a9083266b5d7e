package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/feed"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// rxCheckpoint is the RxDB checkpoint: a JSON object holding the feed checkpoint.
type rxCheckpoint struct {
	Checkpoint string `json:"checkpoint"`
}

// rxPull is the answer of the RxDB pull handler and the data of stream events.
type rxPull struct {
	Documents  []object     `json:"documents"`
	Checkpoint rxCheckpoint `json:"checkpoint"`
	// HasMore (pulls only): the page stopped at the byte budget before batchSize
	// documents; the glue pulls on from Checkpoint to fill its batch.
	HasMore bool `json:"hasMore,omitempty"`
}

// rxRow is one row of an RxDB push.
type rxRow struct {
	AssumedMasterState json.RawMessage `json:"assumedMasterState"`
	NewDocumentState   json.RawMessage `json:"newDocumentState"`
}

func (a *API) rxdbRoutes() {
	a.route("GET /v1/rxdb/{collection}/pull", a.handle(auth.Read, a.rxdbPull))
	a.route("POST /v1/rxdb/{collection}/push", a.handle(auth.Write, a.rxdbPush))
	a.route("GET /v1/rxdb/{collection}/stream", a.handle(auth.Read, a.adapterStream("rxdb", func(uint64) any { return "RESYNC" }, rxEncode)))
}

func (a *API) rxdbPull(w http.ResponseWriter, req *request) error {
	q := req.r.URL.Query()
	var cp rxCheckpoint
	if s := q.Get("checkpoint"); s != "" && s != "null" {
		if err := json.Unmarshal([]byte(s), &cp); err != nil {
			return errorf(http.StatusBadRequest, "invalid_checkpoint", "checkpoint must be the JSON object of a pull: %v", err)
		}
	}
	after, err := feed.Parse(cp.Checkpoint)
	if err != nil {
		return errorf(http.StatusBadRequest, "invalid_checkpoint", "%v", err)
	}
	if err := a.retention.ack(req.r, req.principal, req.collection.Name, after); err != nil {
		return err
	}
	limit, err := a.pullLimit(q.Get("batchSize"))
	if err != nil {
		return err
	}
	page, err := a.cfg.Store.Changes(req.r.Context(), req.collection.Name, after, limit)
	if err != nil {
		return err
	}
	cut := page.Within(a.cfg.MaxPageBytes)
	resp, err := rxEncode(cut)
	if err != nil {
		return err
	}
	out := resp.(rxPull)
	out.HasMore = len(cut.Records) < len(page.Records)
	writeJSON(w, http.StatusOK, out)
	return nil
}

func rxEncode(page store.Page) (any, error) {
	out := rxPull{Documents: make([]object, 0, len(page.Records)), Checkpoint: rxCheckpoint{Checkpoint: feed.Encode(page.Next)}}
	for _, rec := range page.Records {
		d, err := libraryDoc(rec)
		if err != nil {
			return nil, err
		}
		d["_deleted"] = rec.Deleted
		out.Documents = append(out.Documents, d)
	}
	return out, nil
}

// libraryDoc is a stored record as the adapters serve it: the document with its
// version in VersionField; a deleted document keeps only its id.
func libraryDoc(rec store.Record) (object, error) {
	d := object{}
	if !rec.Deleted {
		var err error
		if d, err = decodeObject(rec.Doc); err != nil {
			return nil, err
		}
	}
	d["id"] = rec.ID
	d[VersionField] = rec.Version
	return d, nil
}

func (a *API) rxdbPush(w http.ResponseWriter, req *request) error {
	var rows []rxRow
	if err := a.decodeBody(req.r, &rows); err != nil {
		return err
	}
	edits := make([]adapterEdit, len(rows))
	next := make([]object, len(rows))
	for i, row := range rows {
		e, n, err := rxEdit(i, row)
		if err != nil {
			return err
		}
		edits[i], next[i] = e, n
	}
	ctx := req.r.Context()
	if err := a.pushEdits(ctx, req, edits); err != nil {
		return err
	}
	return a.rxConflicts(w, req, edits, next)
}

// rxEdit reads one push row.
func rxEdit(i int, row rxRow) (adapterEdit, object, error) {
	next, err := rowObject(row.NewDocumentState)
	if err != nil || next == nil {
		return adapterEdit{}, nil, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "row %d: newDocumentState must be a document object", i).with("row", i)
	}
	id, ok := next["id"].(string)
	if !ok || id == "" {
		return adapterEdit{}, nil, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "row %d: the document needs a string id", i).with("row", i)
	}
	base, err := rowObject(row.AssumedMasterState)
	if err != nil {
		return adapterEdit{}, nil, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "row %d: assumedMasterState must be an object or null", i).with("row", i)
	}
	e := adapterEdit{id: id, next: next, deleted: next["_deleted"] == true}
	if base != nil {
		e.baseVersion, _ = base[VersionField].(string)
		if base["_deleted"] != true {
			e.base = base
		}
	}
	return e, next, nil
}

// rowObject decodes a JSON object or null.
func rowObject(raw json.RawMessage) (object, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	return decodeObject(raw)
}

// rxConflicts answers the master state of every row whose document now differs
// from what the client sent, so that RxDB adopts the merged document.
func (a *API) rxConflicts(w http.ResponseWriter, req *request, edits []adapterEdit, next []object) error {
	ids := make([]string, len(edits))
	for i, e := range edits {
		ids[i] = e.id
	}
	recs, err := a.cfg.Store.Get(req.r.Context(), req.collection.Name, ids)
	if err != nil {
		return err
	}
	out := []object{}
	for i, e := range edits {
		rec, ok := recs[e.id]
		if !ok || (rec.Deleted && e.deleted) {
			continue
		}
		master, err := libraryDoc(rec)
		if err != nil {
			return err
		}
		master["_deleted"] = rec.Deleted
		sent := object{}
		for k, v := range next[i] {
			if k != "_meta" && k != "_rev" && k != "_attachments" {
				sent[k] = v
			}
		}
		if !sameJSON(master, sent) {
			out = append(out, master)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
