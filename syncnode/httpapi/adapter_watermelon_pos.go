package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/merge"
)

// WatermelonDB wants one number as its sync position ("timestamp"), but each
// collection has its own feed. The adapter stores each distinct set of positions
// once, as a document of the internal collection PositionsCollection whose id is the
// positions themselves, through the merge engine; the document's own feed position
// (the store's seq, ascending) is the number served. Reading it back is one Changes
// call from seq-1. The same positions always map to the same document, so a pull
// that moved nothing writes nothing. See docs/clients/README.md.

// PositionsCollection holds the WatermelonDB positions; clients never see it.
const PositionsCollection = "_lattice_watermelon"

const positionsClient = "lattice-watermelon"

var positionsColl = merge.Collection{Name: PositionsCollection, Fields: crdt.Fields{}}

// wmPositions resolves last_pulled_at; first reports a first (full) pull.
func (a *API) wmPositions(ctx context.Context, s string) (map[string]uint64, bool, error) {
	if s == "" || s == "null" || s == "0" {
		return map[string]uint64{}, true, nil
	}
	seq, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, false, errorf(http.StatusBadRequest, "invalid_checkpoint", "last_pulled_at must be a timestamp this server returned").with("parameter", "last_pulled_at")
	}
	page, err := a.cfg.Store.Changes(ctx, PositionsCollection, seq-1, 1)
	if err != nil {
		return nil, false, fmt.Errorf("read watermelon positions: %w", err)
	}
	if len(page.Records) == 0 || page.Records[0].Seq != seq {
		return nil, false, errorf(http.StatusBadRequest, "invalid_checkpoint", "last_pulled_at %d is not a timestamp this server returned", seq).with("parameter", "last_pulled_at")
	}
	return parsePositions(page.Records[0].Doc)
}

func parsePositions(doc []byte) (map[string]uint64, bool, error) {
	var d struct{ P string }
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, false, fmt.Errorf("stored watermelon positions: %w", err)
	}
	out := map[string]uint64{}
	if d.P == "" {
		return out, false, nil
	}
	for _, part := range strings.Split(d.P, ",") {
		name, v, ok := strings.Cut(part, "=")
		n, err := strconv.ParseUint(v, 36, 64)
		if !ok || err != nil {
			return nil, false, fmt.Errorf("stored watermelon positions %q are malformed", d.P)
		}
		out[name] = n
	}
	return out, false, nil
}

// wmSavePositions stores pos (once) and returns its feed position.
func (a *API) wmSavePositions(ctx context.Context, pos map[string]uint64) (uint64, error) {
	p := formatPositions(pos)
	sum := sha256.Sum256([]byte(p))
	id := "p:" + hex.EncodeToString(sum[:16])
	m := protocol.Mutation{ID: id, Mid: 1, Set: map[string]json.RawMessage{"p": mustJSON(p)}}
	res, err := a.cfg.Engine.Push(ctx, positionsColl, merge.Writer{Device: positionsClient, Actor: positionsClient}, []protocol.Mutation{m})
	if err != nil {
		return 0, fmt.Errorf("store watermelon positions: %w", err)
	}
	if res.Pending > 0 { // written before, by a commit the feed does not hold yet
		return res.Pending, a.cfg.Engine.AwaitFeed(ctx, PositionsCollection, res.Pending)
	}
	return res.Seq, nil // the document's feed position, whether this push wrote it or not
}
