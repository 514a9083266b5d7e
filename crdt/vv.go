package crdt

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// VersionVector maps a client id to the greatest mutation id (mid) of that client
// applied to a document. Clients send mids in strictly increasing order, so a
// mutation with mid <= vv[client] has been applied before: a retry.
type VersionVector map[string]uint64

// Has reports whether the mutation (client, mid) is included in v.
func (v VersionVector) Has(client string, mid uint64) bool { return mid <= v[client] }

// Observe records that (client, mid) was applied.
func (v VersionVector) Observe(client string, mid uint64) {
	if mid > v[client] {
		v[client] = mid
	}
}

// Join sets v to the pointwise maximum of v and o.
func (v VersionVector) Join(o VersionVector) {
	for c, m := range o {
		v.Observe(c, m)
	}
}

// Clone returns an independent copy of v.
func (v VersionVector) Clone() VersionVector {
	out := make(VersionVector, len(v))
	for c, m := range v {
		out[c] = m
	}
	return out
}

// Covers reports whether v includes every mutation o includes.
func (v VersionVector) Covers(o VersionVector) bool {
	for c, m := range o {
		if v[c] < m {
			return false
		}
	}
	return true
}

// Equal reports whether v and o include exactly the same mutations.
func (v VersionVector) Equal(o VersionVector) bool {
	return v.Covers(o) && o.Covers(v)
}

func (v VersionVector) sortedClients() []string {
	cs := make([]string, 0, len(v))
	for c, m := range v {
		if m > 0 {
			cs = append(cs, c)
		}
	}
	slices.Sort(cs)
	return cs
}

// versionPrefix marks the first version-string format.
const versionPrefix = "v1."

// ErrBadVersion reports a version string that this engine did not produce.
var ErrBadVersion = errors.New("malformed document version")

// VersionString encodes v as the opaque, canonical document version of PROTOCOL.md:
// equal vectors give equal strings on every node.
func (v VersionVector) VersionString() string {
	var b []byte
	for _, c := range v.sortedClients() {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
		b = binary.AppendUvarint(b, v[c])
	}
	return versionPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParseVersion decodes a string made by VersionString. The empty string is the empty
// version (a new document or an empty field).
func ParseVersion(s string) (VersionVector, error) {
	v := VersionVector{}
	if s == "" {
		return v, nil
	}
	if len(s) < len(versionPrefix) || s[:len(versionPrefix)] != versionPrefix {
		return nil, fmt.Errorf("%w: %q", ErrBadVersion, s)
	}
	b, err := base64.RawURLEncoding.DecodeString(s[len(versionPrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadVersion, err)
	}
	r := reader{b: b}
	for !r.done() {
		c := r.string()
		mid := r.uvarint()
		if r.err != nil || ValidateActor(c) != nil || mid == 0 {
			return nil, fmt.Errorf("%w: bad entry", ErrBadVersion)
		}
		v[c] = mid
	}
	return v, nil
}
