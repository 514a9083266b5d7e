package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/merge"
	"github.com/lattice-sync/lattice/syncnode/store"
)

// watermelonPull serves one page of the tables' changes after last_pulled_at,
// within the byte budget across tables (wmPages): {"changes": {"<table>":
// {"created", "updated", "deleted"}}, "timestamp", "hasMore"}. The timestamp
// resumes every table where this page stopped; while hasMore, the glue pulls again
// from it and hands WatermelonDB the pages combined. The answer is written as it
// is encoded.
func (a *API) watermelonPull(w http.ResponseWriter, req *wmRequest) error {
	colls, err := a.tables(req, auth.Read)
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	start, first, err := a.wmPositions(ctx, req.r.URL.Query().Get("last_pulled_at"))
	if err != nil {
		return err
	}
	for _, c := range colls {
		if err := a.retention.ack(req.r, req.principal, c.Name, start[c.Name]); err != nil {
			return err
		}
	}
	p, err := a.wmPages(ctx, colls, start)
	if err != nil {
		return err
	}
	ts, err := a.wmSavePositions(ctx, p.next)
	if err != nil {
		return err
	}
	return a.answer(w, req.r).send(func(j *jsonAnswer) error { return wmAnswer(j, colls, p, first, ts) })
}

// wmPage is one page of a WatermelonDB pull: a feed page per table (none for the
// tables after the one where the budget ran out), the positions that resume each
// table, and whether a table has more.
type wmPage struct {
	pages []store.Page
	next  map[string]uint64
	more  bool
}

// wmPages reads the tables in order, each from its position, until the page is
// full (budgetPage; at least one record in all): a table cut short resumes where it
// stopped, the tables after it where they were.
func (a *API) wmPages(ctx context.Context, colls []merge.Collection, start map[string]uint64) (wmPage, error) {
	p := wmPage{pages: make([]store.Page, len(colls)), next: map[string]uint64{}}
	for _, c := range colls {
		p.next[c.Name] = start[c.Name]
	}
	whole := a.pageRoom()
	room := whole
	for i, c := range colls {
		if p.more = room.full(); p.more {
			break
		}
		page, left, err := a.budgetPage(ctx, c.Name, start[c.Name], room, room == whole) // nothing served yet
		if err != nil {
			return wmPage{}, err
		}
		p.pages[i], p.next[c.Name], room = page, page.Next, left
		if p.more = page.HasMore; p.more {
			break
		}
	}
	return p, nil
}

// wmAnswer writes the pull answer. A first pull serves documents as created and no
// deletions (the client has nothing to delete); later pulls serve documents as
// updated (the feed says "changed"; the glue sets sendCreatedAsUpdated).
func wmAnswer(j *jsonAnswer, colls []merge.Collection, p wmPage, first bool, ts uint64) error {
	j.raw(`{"changes":{`)
	for i, c := range colls {
		if i > 0 {
			j.raw(",")
		}
		if err := j.value(c.Name); err != nil {
			return err
		}
		j.raw(":")
		if err := wmTableAnswer(j, c, p.pages[i].Records, first); err != nil {
			return err
		}
	}
	j.raw(`},"timestamp":` + strconv.FormatUint(ts, 10) + `,"hasMore":` + strconv.FormatBool(p.more) + "}\n")
	return nil
}

// wmTableAnswer writes one table's changes: {"created", "updated", "deleted"}.
func wmTableAnswer(j *jsonAnswer, c merge.Collection, recs []store.Record, first bool) error {
	created, updated, deletions := recs, []store.Record(nil), []store.Record(nil)
	if !first {
		created, updated, deletions = nil, recs, recs
	}
	j.raw(`{"created":`)
	if err := j.docs(created, c.Fields, present); err != nil {
		return err
	}
	j.raw(`,"updated":`)
	if err := j.docs(updated, c.Fields, present); err != nil {
		return err
	}
	j.raw(`,"deleted":`)
	id := func(r store.Record) (any, error) { return r.ID, nil }
	if err := j.array(deletions, absent, id); err != nil {
		return err
	}
	j.raw("}")
	return nil
}
