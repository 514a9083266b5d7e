package controller

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/operator/specs"
)

// FieldOwner is the operator's field manager for server-side apply.
const FieldOwner = "lattice-operator"

// retryMissing is how often a cluster waiting for a Secret is looked at again
// (Secrets are watched too; this is the fallback).
const retryMissing = 30 * time.Second

// SyncClusterReconciler turns SyncClusters into running sync clusters.
type SyncClusterReconciler struct {
	Client client.Client
	Scheme *runtime.Scheme
	// Recorder emits Events on the SyncCluster.
	Recorder events.EventRecorder
	// DefaultImage runs clusters that name no image.
	DefaultImage string
	// Tracer traces each reconcile (default: the global provider's).
	Tracer trace.Tracer
	// Dropper carries out DeletionPolicy Delete (nil: such clusters keep their
	// finalizer and report why).
	Dropper TenantDropper
	// APIReader reads pods for the autoscaler without caching them (default Client).
	APIReader client.Reader
	// ScaleInterval is how often autoscaled clusters are looked at (default 15s).
	ScaleInterval time.Duration

	history scaleHistory
}

// +kubebuilder:rbac:groups=sync.lattice.dev,resources=syncclusters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=sync.lattice.dev,resources=syncclusters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=sync.lattice.dev,resources=syncclusters/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=configmaps;services;serviceaccounts,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one SyncCluster's children and status in line with its spec.
func (r *SyncClusterReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	ctx, span := r.tracer().Start(ctx, "operator.reconcile", trace.WithAttributes(
		attribute.String("k8s.namespace.name", req.Namespace), attribute.String("lattice.synccluster", req.Name)))
	defer span.End()
	var c v1alpha1.SyncCluster
	if err := r.Client.Get(ctx, req.NamespacedName, &c); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !c.DeletionTimestamp.IsZero() {
		return r.finalize(ctx, &c)
	}
	if added, err := r.ensureFinalizer(ctx, &c); err != nil || added {
		return ctrl.Result{}, err
	}
	if err := specs.ValidateNodeConfig(&c); err != nil {
		return ctrl.Result{}, r.degrade(ctx, &c, ReasonInvalidSpec, "the nodes would refuse this configuration: "+err.Error())
	}
	if missing := r.missingSecrets(ctx, &c); missing != "" {
		return ctrl.Result{RequeueAfter: retryMissing}, r.degrade(ctx, &c, ReasonMissingSecret, missing)
	}
	if err := r.applyChildren(ctx, &c); err != nil {
		return ctrl.Result{}, r.failApply(ctx, &c, err)
	}
	again, err := r.autoscale(ctx, &c)
	if err != nil {
		return ctrl.Result{}, err
	}
	return ctrl.Result{RequeueAfter: again}, r.updateStatus(ctx, &c)
}

func (r *SyncClusterReconciler) tracer() trace.Tracer {
	if r.Tracer != nil {
		return r.Tracer
	}
	return otel.Tracer("github.com/lattice-sync/lattice/operator")
}

// failApply reports an apply failure as Degraded and returns it for a retry.
func (r *SyncClusterReconciler) failApply(ctx context.Context, c *v1alpha1.SyncCluster, err error) error {
	if apierrors.IsConflict(err) {
		return err // someone else moved first: retry quietly
	}
	if derr := r.degrade(ctx, c, ReasonApplyFailed, err.Error()); derr != nil {
		return fmt.Errorf("%w (and reporting it: %v)", err, derr)
	}
	return err
}

// image is the image c's nodes run.
func (r *SyncClusterReconciler) image(c *v1alpha1.SyncCluster) string {
	if c.Spec.Image != "" {
		return c.Spec.Image
	}
	return r.DefaultImage
}
