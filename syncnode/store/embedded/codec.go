package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// recordFormat is the first byte of every stored document value.
const recordFormat = 1

// errCorrupt reports a stored value that does not decode.
var errCorrupt = errors.New("embedded store: corrupt record")

// encodeRecord writes r as: format, rev, seq, flags, version, state, doc.
func encodeRecord(r store.Record) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+1+len(r.Version)+len(r.State)+len(r.Doc)+8)
	b = append(b, recordFormat)
	b = binary.AppendUvarint(b, uint64(r.Rev))
	b = binary.AppendUvarint(b, r.Seq)
	var flags byte
	if r.Deleted {
		flags |= 1
	}
	b = append(b, flags)
	for _, f := range [][]byte{[]byte(r.Version), r.State, r.Doc} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// decodeRecord reads a value written by encodeRecord; the result owns its bytes.
func decodeRecord(id string, b []byte) (store.Record, error) {
	r := store.Record{ID: id}
	if len(b) < 2 || b[0] != recordFormat {
		return r, fmt.Errorf("%w: document %q: unknown format", errCorrupt, id)
	}
	d := decoder{b: b[1:]}
	r.Rev = int64(d.uvarint())
	r.Seq = d.uvarint()
	r.Deleted = d.byte()&1 != 0
	r.Version = string(d.bytes())
	r.State = d.bytes()
	r.Doc = d.bytes()
	if d.bad || len(d.b) != 0 {
		return r, fmt.Errorf("%w: document %q", errCorrupt, id)
	}
	return r, nil
}

// decoder reads varint-framed fields; the first failure sticks in bad.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.bad = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// bytes returns a copy of the next length-prefixed field (bbolt's memory is only
// valid inside its transaction).
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)) {
		d.bad = true
		return nil
	}
	out := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return out
}

// seqKey is the feed index key of seq: big-endian, so keys sort by seq.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
