package live

import (
	"sync"
	"sync/atomic"

	"github.com/lattice-sync/lattice/syncnode/store"
)

// Page is a contiguous piece of a collection's change feed: the latest state of
// the documents changed after checkpoint From, up to and including checkpoint To.
// Pages are shared by every stream: never modify one.
type Page struct {
	// Collection is the collection the page belongs to.
	Collection string
	// From and To bound the page: records have From < Seq <= To.
	From, To uint64
	// Records are ascending by Seq.
	Records []store.Record

	mu      sync.Mutex
	encoded map[string]encoding
	// first caches the first format's encoding for lock-free reads: nearly every
	// page is sent in one format only.
	first atomic.Pointer[namedEncoding]
}

type namedEncoding struct {
	format string
	encoding
}

type encoding struct {
	raw []byte
	err error
}

// Encoder turns a page of the store's feed into one stream format's event data.
type Encoder func(store.Page) ([]byte, error)

// After returns the page as a stream at cursor must send it: only records after
// cursor, shared is false when that dropped some (the shared encoding then does
// not fit, and the caller encodes its own).
func (p *Page) After(cursor uint64) (recs []store.Record, shared bool) {
	if cursor <= p.From {
		return p.Records, true
	}
	for i, r := range p.Records {
		if r.Seq > cursor {
			return p.Records[i:], false
		}
	}
	return nil, false
}

// Encoded returns the page's encoding in format, made by enc on first use and
// shared by every later caller.
func (p *Page) Encoded(format string, enc Encoder) ([]byte, error) {
	if f := p.first.Load(); f != nil && f.format == format {
		return f.raw, f.err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.encoded[format]; ok {
		return e.raw, e.err
	}
	raw, err := enc(store.Page{Records: p.Records, Next: p.To})
	if p.encoded == nil {
		p.encoded = map[string]encoding{}
		p.first.Store(&namedEncoding{format, encoding{raw, err}})
	}
	p.encoded[format] = encoding{raw, err}
	return raw, err
}
