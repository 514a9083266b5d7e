package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/lattice-sync/lattice/syncnode/store"
)

var _ store.Clients = (*Store)(nil)

// clientsBucket maps a client id to its last-seen time (Unix ms, big-endian);
// acksBucket maps client id, 0, collection to the acknowledged seq (big-endian).
var (
	clientsBucket = []byte("clients")
	acksBucket    = []byte("client_acks")
)

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
	if err := s.putMax(clientsBucket, []byte(client), uint64(at.UnixMilli())); err != nil {
		return fmt.Errorf("embedded store: record %s as seen: %w", client, err)
	}
	return nil
}

// Acked implements store.Clients.
func (s *Store) Acked(ctx context.Context, client, collection string, seq uint64) error {
	if err := s.putMax(acksBucket, ackKey(client, collection), seq); err != nil {
		return fmt.Errorf("embedded store: record %s's acknowledgement of %s: %w", client, collection, err)
	}
	return nil
}

// putMax stores v under key unless a greater value is there.
func (s *Store) putMax(bucket, key []byte, v uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		if old := b.Get(key); len(old) == 8 && binary.BigEndian.Uint64(old) >= v {
			return nil
		}
		return b.Put(key, binary.BigEndian.AppendUint64(nil, v))
	})
}

func ackKey(client, collection string) []byte {
	return append(append([]byte(client), 0), collection...)
}

// ListClients implements store.Clients.
func (s *Store) ListClients(ctx context.Context, since time.Time, fn func(store.ClientRecord) error) error {
	err := s.db.View(func(tx *bolt.Tx) error {
		clients, acks := tx.Bucket(clientsBucket), tx.Bucket(acksBucket)
		if clients == nil {
			return nil
		}
		return clients.ForEach(func(k, v []byte) error {
			if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < since.UnixMilli() {
				return ctx.Err()
			}
			rec := store.ClientRecord{ID: string(k), Seen: time.UnixMilli(int64(binary.BigEndian.Uint64(v))), Acked: clientAcks(acks, k)}
			if err := fn(rec); err != nil {
				return err
			}
			return ctx.Err()
		})
	})
	if err != nil {
		return fmt.Errorf("embedded store: list clients: %w", err)
	}
	return nil
}

// clientAcks reads one client's acknowledgements (a prefix scan).
func clientAcks(acks *bolt.Bucket, client []byte) map[string]uint64 {
	out := map[string]uint64{}
	if acks == nil {
		return out
	}
	prefix := append(append([]byte{}, client...), 0)
	c := acks.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(v) == 8 {
			out[string(k[len(prefix):])] = binary.BigEndian.Uint64(v)
		}
	}
	return out
}
