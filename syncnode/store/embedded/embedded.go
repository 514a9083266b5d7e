// Package embedded is the single-node Store: one bbolt file, fsynced on every commit,
// with group commit so that concurrent Commit calls share one transaction and one
// fsync. See docs/embedded-store.md.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lattice-sync/lattice/syncnode/store"
	"github.com/lattice-sync/lattice/syncnode/store/internal/check"
)

// ErrClosed is returned by calls on a closed Store.
var ErrClosed = errors.New("embedded store: closed")

// maxGroup bounds how many Commit calls share one transaction.
const maxGroup = 256

// Store is a store.Store kept in one bbolt file. It is safe for concurrent use;
// only one process may open the file at a time.
type Store struct {
	db   *bolt.DB
	reqs chan *request
	done chan struct{} // closed when the commit loop has exited

	mu     sync.RWMutex // guards closed against concurrent sends on reqs
	closed bool

	groupHook func(size int) // test hook: called before each group transaction
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store file at path. It waits up to a second
// for another process holding the file to let go.
func Open(path string) (*Store, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded store: create %s: %w", dir, err)
	}
	_, statErr := os.Stat(path)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("embedded store: open %s: %w", path, err)
	}
	if os.IsNotExist(statErr) {
		if err := syncDir(dir); err != nil {
			_ = db.Close()
			return nil, err
		}
	}
	s := &Store{db: db, reqs: make(chan *request, maxGroup), done: make(chan struct{})}
	go s.commitLoop()
	return s, nil
}

// syncDir fsyncs a directory so that a file just created in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("embedded store: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("embedded store: sync dir %s: %w", dir, err)
	}
	return nil
}

// Path returns the file the store lives in.
func (s *Store) Path() string { return s.db.Path() }

func docsBucket(collection string) []byte { return []byte("d/" + collection) }
func feedBucket(collection string) []byte { return []byte("f/" + collection) }

// Get returns the stored records of ids; missing ids are absent from the map.
func (s *Store) Get(ctx context.Context, collection string, ids []string) (map[string]store.Record, error) {
	if err := s.precheck(ctx, collection); err != nil {
		return nil, err
	}
	if err := check.IDs(ids); err != nil {
		return nil, err
	}
	out := make(map[string]store.Record, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		docs := tx.Bucket(docsBucket(collection))
		if docs == nil {
			return nil
		}
		for _, id := range ids {
			v := docs.Get([]byte(id))
			if v == nil {
				continue
			}
			r, err := decodeRecord(id, v)
			if err != nil {
				return err
			}
			out[id] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded store: get from %s: %w", collection, err)
	}
	return out, nil
}

// precheck rejects calls on a closed store, with a done context or a bad collection.
func (s *Store) precheck(ctx context.Context, collection string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	return check.Collection(collection)
}

// Changes returns the records committed after checkpoint after, ascending by seq.
// limit <= 0 means the default page size (1000).
func (s *Store) Changes(ctx context.Context, collection string, after uint64, limit int) (store.Page, error) {
	if err := s.precheck(ctx, collection); err != nil {
		return store.Page{}, err
	}
	limit = check.Limit(limit)
	page := store.Page{Next: after}
	err := s.db.View(func(tx *bolt.Tx) error {
		feed, docs := tx.Bucket(feedBucket(collection)), tx.Bucket(docsBucket(collection))
		if feed == nil || docs == nil {
			return nil
		}
		c := feed.Cursor()
		k, v := c.Seek(seqKey(after + 1))
		for ; k != nil && len(page.Records) < limit; k, v = c.Next() {
			r, err := decodeRecord(string(v), docs.Get(v))
			if err != nil {
				return err
			}
			page.Records = append(page.Records, r)
		}
		page.HasMore = k != nil
		if page.HasMore {
			page.Next = page.Records[len(page.Records)-1].Seq
		} else {
			page.Next = max(after, feed.Sequence())
		}
		return nil
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("embedded store: changes of %s after %d: %w", collection, after, err)
	}
	return page, nil
}

// Ping reports whether the store is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// Close waits for queued commits to finish and closes the file. Later calls return
// ErrClosed; closing twice is a no-op.
func (s *Store) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.reqs)
	s.mu.Unlock()
	select {
	case <-s.done:
	case <-ctx.Done():
		return fmt.Errorf("embedded store: close: %w", ctx.Err())
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("embedded store: close %s: %w", s.db.Path(), err)
	}
	return nil
}

// Head implements store.Store: the feed bucket's sequence (0 for a new collection).
func (s *Store) Head(ctx context.Context, collection string) (uint64, error) {
	if err := s.precheck(ctx, collection); err != nil {
		return 0, err
	}
	var head uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if f := tx.Bucket(feedBucket(collection)); f != nil {
			head = f.Sequence()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("embedded store: head of %s: %w", collection, err)
	}
	return head, nil
}
