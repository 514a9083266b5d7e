package controller_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/redis/go-redis/v9"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/fanout/redistest"
	"github.com/lattice-sync/lattice/syncnode/store/ferrettest"
)

// deleteAndWait deletes c and waits until its finalizer let it go.
func deleteAndWait(t *testing.T, c *v1alpha1.SyncCluster) {
	t.Helper()
	if err := k8s.Delete(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the SyncCluster gone", func() (bool, string) {
		err := get(t, c.Namespace, c.Name, &v1alpha1.SyncCluster{})
		return apierrors.IsNotFound(err), "still there"
	})
}

func TestDeletionPolicyRetainKeepsTheData(t *testing.T) {
	ns := newNamespace(t)
	createSecrets(t, ns, "mongodb://unreachable.invalid:27017", "redis://unreachable.invalid:6379/0")
	c := sampleCluster(t, ns)
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the finalizer", func() (bool, string) {
		_ = get(t, ns, c.Name, c)
		return len(c.Finalizers) == 1, ""
	})
	deleteAndWait(t, c) // Retain touches no store: the unreachable URIs do not matter
}

func TestDeletionPolicyDeleteDropsDatabaseAndStream(t *testing.T) {
	ctx := context.Background()
	db, rds := ferrettest.Start(t), redistest.Start(t)
	ns := newNamespace(t)
	createSecrets(t, ns, db.URI, rds.URL)
	m, err := mongo.Connect(options.Client().ApplyURI(db.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.Disconnect(ctx) }()
	if _, err := m.Database(db.Database).Collection("workorders").InsertOne(ctx, bson.M{"_id": "wo-1"}); err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(&redis.Options{Addr: rds.Addr})
	defer rc.Close()
	if err := rc.XAdd(ctx, &redis.XAddArgs{Stream: "lattice:events:acme", Values: map[string]any{"k": "v"}}).Err(); err != nil {
		t.Fatal(err)
	}
	c := sampleCluster(t, ns)
	c.Spec.DeletionPolicy, c.Spec.MongoDB.Database = v1alpha1.DeletionDelete, db.Database
	if err := k8s.Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the finalizer", func() (bool, string) { _ = get(t, ns, c.Name, c); return len(c.Finalizers) == 1, "" })
	deleteAndWait(t, c)
	names, err := m.Database(db.Database).ListCollectionNames(ctx, bson.M{})
	if err != nil || len(names) != 0 {
		t.Errorf("database %s still has %v (%v)", db.Database, names, err)
	}
	if n, err := rc.Exists(ctx, "lattice:events:acme").Result(); err != nil || n != 0 {
		t.Errorf("stream still there: %d %v", n, err)
	}
}
