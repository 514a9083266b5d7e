package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/operator/specs"
)

// Finalizer holds a SyncCluster until its deletion policy is carried out.
const Finalizer = "sync.lattice.dev/deletion-policy"

// TenantDropper drops a tenant's data: its MongoDB database and Redis stream.
type TenantDropper interface {
	Drop(ctx context.Context, t TenantData) error
}

// TenantData locates a tenant's data.
type TenantData struct {
	MongoURI, Database string
	// RedisURL and Stream are empty when the cluster has no Redis.
	RedisURL, Stream string
}

func (r *SyncClusterReconciler) ensureFinalizer(ctx context.Context, c *v1alpha1.SyncCluster) (bool, error) {
	if controllerutil.ContainsFinalizer(c, Finalizer) {
		return false, nil
	}
	controllerutil.AddFinalizer(c, Finalizer)
	if err := r.Client.Update(ctx, c); err != nil {
		return false, fmt.Errorf("add the finalizer to %s: %w", c.Name, err)
	}
	return true, nil
}

// finalize carries out c's deletion policy, then lets it go. Children go with it
// through their owner references.
func (r *SyncClusterReconciler) finalize(ctx context.Context, c *v1alpha1.SyncCluster) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(c, Finalizer) {
		return ctrl.Result{}, nil
	}
	if c.Spec.DeletionPolicy == v1alpha1.DeletionDelete {
		if err := r.dropTenant(ctx, c); err != nil {
			setCondition(c, metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue, Reason: ReasonDeleting,
				Message: "deletionPolicy Delete: " + err.Error()})
			r.event(c, corev1.EventTypeWarning, ReasonDeleting, err.Error())
			_ = r.Client.Status().Update(ctx, c)
			return ctrl.Result{RequeueAfter: retryMissing}, nil
		}
		r.event(c, corev1.EventTypeNormal, ReasonDeleting, "dropped database "+specs.Database(c)+" and the tenant's stream")
	}
	controllerutil.RemoveFinalizer(c, Finalizer)
	if err := r.Client.Update(ctx, c); err != nil {
		return ctrl.Result{}, fmt.Errorf("remove the finalizer of %s: %w", c.Name, err)
	}
	return ctrl.Result{}, nil
}

// dropTenant drops c's database and stream with the credentials of its Secrets.
func (r *SyncClusterReconciler) dropTenant(ctx context.Context, c *v1alpha1.SyncCluster) error {
	if r.Dropper == nil {
		return fmt.Errorf("this operator cannot drop tenant data (no dropper configured)")
	}
	t := TenantData{Database: specs.Database(c)}
	var err error
	if t.MongoURI, err = r.secretValue(ctx, c.Namespace, c.Spec.MongoDB.URISecret); err != nil {
		return err
	}
	if c.Spec.Redis != nil {
		if t.RedisURL, err = r.secretValue(ctx, c.Namespace, c.Spec.Redis.URLSecret); err != nil {
			return err
		}
		t.Stream = specs.Stream(c)
	}
	return r.Dropper.Drop(ctx, t)
}
