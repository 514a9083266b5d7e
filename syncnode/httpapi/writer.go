package httpapi

import (
	"net/http"

	"github.com/lattice-sync/lattice/api/protocol"
	"github.com/lattice-sync/lattice/crdt"
	"github.com/lattice-sync/lattice/syncnode/auth"
	"github.com/lattice-sync/lattice/syncnode/merge"
)

// clientHeader names the device a request comes from.
const clientHeader = "Lattice-Client"

// writerOf returns the device r names in Lattice-Client, bound to its caller p
// (auth.Principal.Actor): what a client claims is only which of its user's devices
// it is. 400 when the header is missing or not a valid id.
func writerOf(r *http.Request, p auth.Principal) (merge.Writer, error) {
	device := r.Header.Get(clientHeader)
	if err := crdt.ValidateActor(device); err != nil {
		return merge.Writer{}, errorf(http.StatusBadRequest, protocol.CodeInvalidMutation, "%s header: %v", clientHeader, err).
			with("header", clientHeader)
	}
	return merge.Writer{Device: device, Actor: p.Actor(device)}, nil
}
