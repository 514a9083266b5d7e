package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/merge"
)

// wmTable is one table's changes, in both directions.
type wmTable struct {
	Created []json.RawMessage `json:"created"`
	Updated []json.RawMessage `json:"updated"`
	Deleted []string          `json:"deleted"`
}

// wmPush is the push body: the changes synchronize() hands to pushChanges.
type wmPush struct {
	Changes map[string]wmTable `json:"changes"`
}

func (a *API) watermelonRoutes() {
	a.route("GET /v1/watermelon/pull", a.watermelon(auth.Read, a.watermelonPull))
	a.route("POST /v1/watermelon/push", a.watermelon(auth.Write, a.watermelonPush))
}

// wmRequest is an authenticated WatermelonDB request: one endpoint for many tables.
type wmRequest struct {
	r         *http.Request
	principal auth.Principal
}

// watermelon authenticates and rate-limits like handle; tables are authorized per
// table by the handler.
func (a *API) watermelon(action auth.Action, h func(http.ResponseWriter, *wmRequest) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := a.addrLimit.check(addressKey(r))
		var p auth.Principal
		if err == nil {
			p, err = a.authenticate(r)
		}
		if err == nil && len(p.Scopes) == 0 {
			err = errorf(http.StatusForbidden, protocol.CodeForbidden, "token has no scope")
		}
		if err == nil {
			_, err = a.admitCaller(r, p)
		}
		if err == nil {
			err = h(w, &wmRequest{r: r, principal: p})
		}
		if err != nil {
			e := toAPIError(err)
			if e.status >= 500 {
				a.cfg.Logger.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, e)
		}
	}
}

// table resolves and authorizes one table (a collection).
func (a *API) table(req *wmRequest, name string, action auth.Action) (merge.Collection, error) {
	coll, ok := a.lookup(name)
	if !ok {
		return coll, errorf(http.StatusNotFound, protocol.CodeUnknownCollection, "collection %q is not served here", name).with("collection", name)
	}
	if !req.principal.Can(action, name) {
		return coll, errorf(http.StatusForbidden, protocol.CodeForbidden, "token lacks scope %s:%s", action, name).with("scope", string(action)+":"+name)
	}
	return coll, nil
}

// tables reads ?tables=a,b: the tables of the client's schema. WatermelonDB has one
// endpoint for all tables and the server cannot list a token's collections when it
// holds `*`, so the glue names them.
func (a *API) tables(req *wmRequest, action auth.Action) ([]merge.Collection, error) {
	list := req.r.URL.Query().Get("tables")
	if list == "" {
		return nil, errorf(http.StatusBadRequest, "invalid_parameter", "name the tables: ?tables=a,b").with("parameter", "tables")
	}
	names := strings.Split(list, ",")
	slices.Sort(names)
	var out []merge.Collection
	for _, n := range slices.Compact(names) {
		c, err := a.table(req, n, action)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func (a *API) watermelonPush(w http.ResponseWriter, req *wmRequest) error {
	var body wmPush
	if err := a.decodeBody(req.r, &body); err != nil {
		return err
	}
	names := make([]string, 0, len(body.Changes))
	for n := range body.Changes {
		names = append(names, n)
	}
	slices.Sort(names)
	colls := make([]merge.Collection, len(names))
	edits := make([][]adapterEdit, len(names))
	for i, n := range names { // everything is checked before anything is written
		c, err := a.table(req, n, auth.Write)
		if err != nil {
			return err
		}
		if edits[i], err = wmEdits(n, body.Changes[n]); err != nil {
			return err
		}
		colls[i] = c
	}
	return a.pushTables(w, req, colls, edits)
}

// pushTables checks every table's mutations against the stored documents (schema,
// limits) before it writes any table, so one bad row refuses the whole push.
func (a *API) pushTables(w http.ResponseWriter, req *wmRequest, colls []merge.Collection, edits [][]adapterEdit) error {
	ctx := req.r.Context()
	writer, err := writerOf(req.r, req.principal)
	if err != nil {
		return err
	}
	ms := make([][]protocol.Mutation, len(colls))
	for i, c := range colls {
		if ms[i], err = a.editMutations(ctx, c, writer.Actor, edits[i]); err != nil {
			return err
		}
		if len(ms[i]) > 0 {
			if err := a.cfg.Engine.Check(ctx, c, writer, ms[i]); err != nil {
				return err
			}
		}
	}
	for i, c := range colls {
		if len(ms[i]) > 0 {
			if _, err := a.cfg.Engine.Push(ctx, c, writer, ms[i]); err != nil {
				return err
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{})
	return nil
}

// wmEdits reads one table's pushed rows.
func wmEdits(table string, t wmTable) ([]adapterEdit, error) {
	var out []adapterEdit
	for _, group := range []struct {
		kind string
		rows []json.RawMessage
	}{{"created", t.Created}, {"updated", t.Updated}} {
		kind := group.kind
		for i, raw := range group.rows {
			row, err := rowObject(raw)
			id, _ := row["id"].(string)
			if err != nil || row == nil || id == "" {
				return nil, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "changes.%s.%s[%d]: want a row object with a string id", table, kind, i).
					with("table", table).with("row", i)
			}
			for k, v := range row { // a null column is an empty one
				if v == nil {
					delete(row, k)
				}
			}
			e := adapterEdit{id: id, next: row}
			if kind == "updated" {
				if e, err = wmUpdate(row, id); err != nil {
					return nil, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "changes.%s.updated[%d]: %v", table, i, err)
				}
			}
			out = append(out, e)
		}
	}
	for _, id := range t.Deleted {
		out = append(out, adapterEdit{id: id, deleted: true})
	}
	return out, nil
}

// wmUpdate reads an updated row: only its `_changed` columns are the client's edits.
func wmUpdate(row object, id string) (adapterEdit, error) {
	e := adapterEdit{id: id, next: row, baseIsCurrent: true}
	if changed, _ := row["_changed"].(string); changed != "" {
		e.only = strings.Split(changed, ",")
	}
	e.baseVersion, _ = row[VersionField].(string)
	var err error
	e.typedBase, err = parseBase(row)
	return e, err
}

// formatPositions encodes feed positions by collection: "orders=5,parts=1a" (base
// 36, collections in order).
func formatPositions(pos map[string]uint64) string {
	keys := make([]string, 0, len(pos))
	for k := range pos {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + strconv.FormatUint(pos[k], 36))
	}
	return b.String()
}
