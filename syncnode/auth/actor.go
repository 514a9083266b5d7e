package auth

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
)

// actorEncoding spells actors in characters every client id may hold
// (crdt.ValidateActor), lower case, without padding.
var actorEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// actorBytes is how much of the digest an actor keeps: 120 bits, 24 characters.
const actorBytes = 15

// Actor returns the internal actor bound to device for p: the id under which the
// node records p's writes from that device (clocks, retry de-duplication, counter
// shares, text item ids, the client registry). It is a digest of the tenant, the
// subject and the device id, so a user who names another user's device gets an actor
// of their own and cannot touch that device's state, and versions and clocks reveal
// no client id. The same inputs give the same actor on every node.
func (p Principal) Actor(device string) string {
	var b []byte
	b = append(b, "lattice actor v1"...)
	for _, part := range []string{p.Tenant, p.Subject, device} {
		b = binary.AppendUvarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	sum := sha256.Sum256(b)
	return actorEncoding.EncodeToString(sum[:actorBytes])
}
