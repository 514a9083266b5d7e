package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lattice-sync/lattice/syncnode/store"
)

var _ store.Clients = (*Store)(nil)

// clientsBucket maps a client id to its last-seen time (Unix ms, big-endian).
var clientsBucket = []byte("clients")

// LastSeen implements store.Clients.
func (s *Store) LastSeen(ctx context.Context, client string) (time.Time, bool, error) {
	var at time.Time
	var found bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(clientsBucket); b != nil {
			if v := b.Get([]byte(client)); len(v) == 8 {
				at, found = time.UnixMilli(int64(binary.BigEndian.Uint64(v))), true
			}
		}
		return ctx.Err()
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("embedded store: last seen of %s: %w", client, err)
	}
	return at, found, nil
}

// Seen implements store.Clients.
func (s *Store) Seen(ctx context.Context, client string, at time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(clientsBucket)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(client)); len(v) == 8 && int64(binary.BigEndian.Uint64(v)) >= at.UnixMilli() {
			return nil
		}
		return b.Put([]byte(client), binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())))
	})
	if err != nil {
		return fmt.Errorf("embedded store: record %s as seen: %w", client, err)
	}
	return nil
}
