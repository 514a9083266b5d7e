package operator

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/operator/controller"
)

// Options configure the operator.
type Options struct {
	// DefaultImage runs SyncClusters that name no image (required).
	DefaultImage string
	// WatchNamespaces limits the operator to these namespaces (none: all).
	WatchNamespaces []string
	// MetricsAddr serves the operator's metrics ("0" turns them off).
	MetricsAddr string
	// HealthAddr serves /healthz and /readyz.
	HealthAddr string
	// LeaderElection lets one of several operator replicas act at a time.
	LeaderElection bool
	// LeaderElectionNamespace holds the lease (default: the operator's namespace).
	LeaderElectionNamespace string
	// ScaleInterval is how often the operator's own autoscaler reads the nodes of
	// an autoscaled cluster (default 15s).
	ScaleInterval time.Duration
}

// LeaderElectionID names the operator's lease.
const LeaderElectionID = "lattice-operator.sync.lattice.dev"

// NewScheme returns a scheme with the Kubernetes types and Lattice's resources.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("kubernetes scheme: %w", err)
	}
	if err := v1alpha1.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("lattice scheme: %w", err)
	}
	return s, nil
}

// NewManager builds the operator's manager with its reconcilers registered.
func NewManager(cfg *rest.Config, o Options) (ctrl.Manager, error) {
	if o.DefaultImage == "" {
		return nil, fmt.Errorf("operator: a default image is required (--default-image)")
	}
	scheme, err := NewScheme()
	if err != nil {
		return nil, err
	}
	mgrOpts := ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		HealthProbeBindAddress:  o.HealthAddr,
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        LeaderElectionID,
		LeaderElectionNamespace: o.LeaderElectionNamespace,
	}
	if len(o.WatchNamespaces) > 0 {
		mgrOpts.Cache.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range o.WatchNamespaces {
			mgrOpts.Cache.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	mgr, err := ctrl.NewManager(cfg, mgrOpts)
	if err != nil {
		return nil, fmt.Errorf("operator manager: %w", err)
	}
	if err := register(mgr, o); err != nil {
		return nil, err
	}
	return mgr, nil
}

func register(mgr ctrl.Manager, o Options) error {
	r := &controller.SyncClusterReconciler{Client: mgr.GetClient(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("lattice-operator"), DefaultImage: o.DefaultImage, Dropper: controller.StoreDropper{},
		APIReader: mgr.GetAPIReader(), ScaleInterval: o.ScaleInterval}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("register the SyncCluster reconciler: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return fmt.Errorf("ready check: %w", err)
	}
	return nil
}
