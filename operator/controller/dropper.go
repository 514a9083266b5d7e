package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// StoreDropper drops tenant data with the MongoDB driver and a Redis client.
type StoreDropper struct {
	// Timeout bounds one drop (default 30s).
	Timeout time.Duration
}

// Drop implements TenantDropper: the database, then the stream. Both are
// idempotent, so a retried drop after a partial failure finishes the job.
func (d StoreDropper) Drop(ctx context.Context, t TenantData) error {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m, err := mongo.Connect(options.Client().ApplyURI(t.MongoURI))
	if err != nil {
		return fmt.Errorf("connect to MongoDB: %w", err)
	}
	defer func() { _ = m.Disconnect(context.Background()) }()
	if err := m.Database(t.Database).Drop(ctx); err != nil {
		return fmt.Errorf("drop database %s: %w", t.Database, err)
	}
	if t.RedisURL == "" {
		return nil
	}
	opts, err := redis.ParseURL(t.RedisURL)
	if err != nil {
		return fmt.Errorf("redis URL: %w", err)
	}
	rc := redis.NewClient(opts)
	defer rc.Close()
	if err := rc.Del(ctx, t.Stream).Err(); err != nil {
		return fmt.Errorf("delete stream %s: %w", t.Stream, err)
	}
	return nil
}
