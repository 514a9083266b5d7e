package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/merge"
)

// VersionField is the field in which the adapters serve each document's version. The
// client glue keeps it and sends it back, so the adapter knows which state a client
// edited (the base of a text splice and of the retry check). It is never stored.
const VersionField = "latticeVersion"

// BaseField is the field in which the SignalDB and WatermelonDB adapters serve the
// typed (text, list, set, counter) paths' values as a JSON string: those libraries
// send no base document, so the glue keeps this one and the adapter diffs the edited
// value against it. A JSON string so that it fits a WatermelonDB column.
const BaseField = "latticeBase"

// object is a decoded JSON object (numbers kept as json.Number).
type object = map[string]any

// adapterEdit is one client's edit of one document, as the library sent it.
type adapterEdit struct {
	id string
	// base is the state the client edited (nil: none known, a new document).
	base object
	// next is the client's new state; nil with deleted set.
	next    object
	deleted bool
	// baseVersion is the version of base ("" when unknown or new).
	baseVersion string
	// only, when not nil, limits the edit to these paths (and what lies below them).
	only []string
	// baseIsCurrent: the library sends no base document; last-writer-wins paths are
	// compared with the current state and typed paths with typedBase.
	baseIsCurrent bool
	// typedBase holds the typed paths' values as last served (BaseField).
	typedBase object
}

// current is a document as stored, for the diff.
type current struct {
	doc     object
	deleted bool
	vv      crdt.VersionVector
	version string
	exists  bool
}

// decodeObject decodes raw (a JSON object or null) with numbers kept exact.
func decodeObject(raw []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var o object
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("decode document: %w", err)
	}
	return o, nil
}

// loadCurrent reads the stored state of ids.
func (a *API) loadCurrent(ctx context.Context, coll string, ids []string) (map[string]current, error) {
	recs, err := a.cfg.Store.Get(ctx, coll, ids)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", coll, err)
	}
	out := make(map[string]current, len(ids))
	for id, rec := range recs {
		vv, err := crdt.ParseVersion(rec.Version)
		if err != nil {
			return nil, fmt.Errorf("stored version of %s/%s: %w", coll, id, err)
		}
		c := current{deleted: rec.Deleted, vv: vv, version: rec.Version, exists: true}
		if !rec.Deleted {
			if c.doc, err = decodeObject(rec.Doc); err != nil {
				return nil, fmt.Errorf("stored %s/%s: %w", coll, id, err)
			}
		}
		out[id] = c
	}
	return out, nil
}

// pushEdits turns library edits into mutations against the current state and runs
// them through the merge engine: the one write path. Edits that change nothing
// produce no mutation; when none is left the engine is not called.
func (a *API) pushEdits(ctx context.Context, req *request, edits []adapterEdit) error {
	writer, err := writerOf(req.r, req.principal)
	if err != nil {
		return err
	}
	ms, err := a.editMutations(ctx, req.collection, writer.Actor, edits)
	if err != nil || len(ms) == 0 {
		return err
	}
	_, err = a.cfg.Engine.Push(ctx, req.collection, writer, ms)
	return err
}

// editMutations turns edits into the mutations that write what the client changed;
// actor is the writer's internal actor (its entries in the stored versions).
func (a *API) editMutations(ctx context.Context, coll merge.Collection, actor string, edits []adapterEdit) ([]protocol.Mutation, error) {
	if len(edits) > a.cfg.MaxBatch {
		return nil, errorf(http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, "push has %d documents, limit is %d",
			len(edits), a.cfg.MaxBatch).with("limit", a.cfg.MaxBatch)
	}
	ids := make([]string, 0, len(edits))
	for _, e := range edits {
		ids = append(ids, e.id)
	}
	cur, err := a.loadCurrent(ctx, coll.Name, ids)
	if err != nil {
		return nil, err
	}
	now := uint64(time.Now().UnixMicro())
	last := map[string]uint64{} // the mid given to each document in this push
	var ms []protocol.Mutation
	for _, e := range edits {
		m, ok, err := mutationFor(coll.Fields, actor, e, cur[e.id])
		if err != nil {
			return nil, err
		}
		if ok {
			// mid: above every mid of this client in the document (and above the one
			// of an earlier row of this push for it), so the engine never mistakes it
			// for a retry; see docs/clients/README.md.
			m.Mid = max(cur[e.id].vv[actor]+1, now, last[e.id]+1)
			last[e.id] = m.Mid
			ms = append(ms, m)
		}
	}
	return ms, nil
}

// mutationFor builds the mutation of one edit; false when nothing needs writing.
func mutationFor(fields crdt.Fields, actor string, e adapterEdit, cur current) (protocol.Mutation, bool, error) {
	m := protocol.Mutation{ID: e.id}
	if e.deleted {
		m.Delete = cur.exists && !cur.deleted
		return m, m.Delete, nil
	}
	base := e.base
	if e.baseIsCurrent {
		base = cur.doc
	}
	if base == nil || !cur.exists || cur.deleted {
		base = object{} // new, re-created or revived: every field is the client's
	}
	baseVV, err := crdt.ParseVersion(e.baseVersion)
	if err != nil {
		return m, false, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "document %s: %s: %v", e.id, VersionField, err).with("id", e.id)
	}
	d := differ{fields: fields, m: &m, cur: cur, only: e.only, baseVersion: e.baseVersion,
		retried: cur.vv[actor] > baseVV[actor] && e.baseVersion != ""}
	if e.baseIsCurrent {
		d.typedBase = e.typedBase
		if d.typedBase == nil || !cur.exists || cur.deleted {
			d.typedBase = object{}
		}
	}
	d.object("", base, e.next, cur.doc)
	if d.err != nil {
		return m, false, d.err
	}
	return m, d.n > 0, nil
}

// differ compares base (what the client edited) with next (what it made of it) and
// writes into m only the client's changes that the current state does not already hold.
type differ struct {
	fields      crdt.Fields
	m           *protocol.Mutation
	cur         current
	only        []string
	baseVersion string
	// retried: the document holds a mutation of this client newer than the base, so
	// the client's edit of base was applied already (this is a retry).
	retried bool
	// typedBase, when not nil, replaces base for typed paths.
	typedBase object
	n         int
	err       error
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// skipKey reports top-level keys that are not document content.
func skipKey(prefix, key string) bool {
	return prefix == "" && (key == "id" || key == VersionField || key == BaseField || strings.HasPrefix(key, "_"))
}

func (d *differ) wanted(path string) bool {
	if d.only == nil {
		return true
	}
	for _, p := range d.only {
		if p == path || strings.HasPrefix(path, p+".") || strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// object diffs the members of one object level.
func (d *differ) object(prefix string, base, next, cur object) {
	keys := make([]string, 0, len(base)+len(next))
	for k := range base {
		keys = append(keys, k)
	}
	for k := range next {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		if skipKey(prefix, k) || !d.wanted(join(prefix, k)) {
			continue
		}
		b, inB := base[k]
		n, inN := next[k]
		d.member(join(prefix, k), b, inB, n, inN, cur[k])
	}
}

func (d *differ) member(path string, b any, inB bool, n any, inN bool, c any) {
	if t := d.fields[path]; t != crdt.FieldLWW {
		if d.typedBase != nil {
			b = d.typedBase[path]
		}
		d.typed(path, t, b, n, c)
		return
	}
	nObj, nIsObj := n.(object)
	bObj, bIsObj := b.(object)
	if nIsObj && (bIsObj || !inB) && (len(nObj) > 0 || d.hasTypedBelow(path)) {
		cObj, _ := c.(object)
		d.object(path, bObj, nObj, cObj)
		return
	}
	switch {
	case !inN && inB && c != nil:
		d.m.Unset = append(d.m.Unset, path)
		d.n++
	case inN && (!inB || !sameJSON(b, n)) && !sameJSON(c, n):
		if d.m.Set == nil {
			d.m.Set = map[string]json.RawMessage{}
		}
		d.m.Set[path] = mustJSON(n)
		d.n++
	}
}

func (d *differ) hasTypedBelow(path string) bool {
	for q, t := range d.fields {
		if t != crdt.FieldLWW && strings.HasPrefix(q, path+".") {
			return true
		}
	}
	return false
}

func sameJSON(a, b any) bool { return bytes.Equal(mustJSON(a), mustJSON(b)) }

func mustJSON(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return raw
}
