package controller

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/operator/scaler"
	"github.com/lattice-sync/lattice/operator/specs"
)

// DefaultScaleInterval is how often the operator's own scaler looks at a cluster.
const DefaultScaleInterval = 15 * time.Second

// scrapeTimeout bounds one node's /metrics; scrapeParallel bounds the nodes read at once.
const (
	scrapeTimeout  = 2 * time.Second
	scrapeParallel = 16
)

// scaleHistory keeps each cluster's recent recommendations (the scale-down window).
type scaleHistory struct {
	mu sync.Mutex
	m  map[types.NamespacedName][]scaler.Recommendation
}

func (h *scaleHistory) swap(key types.NamespacedName, next []scaler.Recommendation) []scaler.Recommendation {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[types.NamespacedName][]scaler.Recommendation{}
	}
	prev := h.m[key]
	if next != nil {
		h.m[key] = next
	}
	return prev
}

// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list
// +kubebuilder:rbac:groups=apps,resources=deployments/scale,verbs=get;update;patch

// autoscale runs the operator's scaler for a cluster in autoscaling mode Operator:
// it reads every running node's open streams, decides (scaler.Decide) and sets the
// Deployment's replicas through its scale subresource. It returns when to look again
// (0: c does not autoscale this way).
func (r *SyncClusterReconciler) autoscale(ctx context.Context, c *v1alpha1.SyncCluster) (time.Duration, error) {
	a := c.Spec.Autoscaling
	if a == nil || a.Mode != v1alpha1.AutoscalingOperator || a.TargetStreamsPerPod == nil {
		return 0, nil
	}
	var d appsv1.Deployment
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.Name(c)}, &d); err != nil {
		return 0, fmt.Errorf("read the Deployment of %s: %w", c.Name, err)
	}
	loads, err := r.nodeLoads(ctx, c)
	if err != nil {
		return 0, err
	}
	key := client.ObjectKeyFromObject(c)
	current := ptrOr(d.Spec.Replicas, 1)
	decision := scaler.Decide(scalePolicy(a), current, loads, time.Now(), r.history.swap(key, nil))
	r.history.swap(key, decision.History)
	if decision.Replicas != current {
		if err := r.scaleDeployment(ctx, &d, decision.Replicas); err != nil {
			return 0, err
		}
		r.event(c, corev1.EventTypeNormal, "Scaled", fmt.Sprintf("%d → %d nodes: %s", current, decision.Replicas, decision.Reason))
	}
	return r.scaleInterval(), nil
}

func (r *SyncClusterReconciler) scaleInterval() time.Duration {
	if r.ScaleInterval > 0 {
		return r.ScaleInterval
	}
	return DefaultScaleInterval
}

func scalePolicy(a *v1alpha1.AutoscalingSpec) scaler.Policy {
	window := 5 * time.Minute
	if a.ScaleDownWindow != nil {
		window = a.ScaleDownWindow.Duration
	}
	return scaler.Policy{Min: max(a.MinReplicas, 1), Max: a.MaxReplicas, TargetStreams: float64(*a.TargetStreamsPerPod), ScaleDownWindow: window}
}

func (r *SyncClusterReconciler) scaleDeployment(ctx context.Context, d *appsv1.Deployment, replicas int32) error {
	scale := &autoscalingv1.Scale{}
	if err := r.Client.SubResource("scale").Get(ctx, d, scale); err != nil {
		return fmt.Errorf("read the scale of %s: %w", d.Name, err)
	}
	scale.Spec.Replicas = replicas
	if err := r.Client.SubResource("scale").Update(ctx, d, client.WithSubResourceBody(scale)); err != nil {
		return fmt.Errorf("scale %s to %d: %w", d.Name, replicas, err)
	}
	return nil
}

// nodeLoads reads the open streams of every running node of c, several at a time.
func (r *SyncClusterReconciler) nodeLoads(ctx context.Context, c *v1alpha1.SyncCluster) ([]scaler.Load, error) {
	var pods corev1.PodList
	if err := r.reader().List(ctx, &pods, client.InNamespace(c.Namespace), client.MatchingLabels(specs.SelectorLabels(c))); err != nil {
		return nil, fmt.Errorf("list the nodes of %s: %w", c.Name, err)
	}
	var running []corev1.Pod
	for _, p := range pods.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" {
			running = append(running, p)
		}
	}
	loads := make([]scaler.Load, len(running))
	sem := make(chan struct{}, scrapeParallel)
	var wg sync.WaitGroup
	for i := range running {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			loads[i] = r.scrapeNode(ctx, &running[i])
		}()
	}
	wg.Wait()
	return loads, nil
}

func (r *SyncClusterReconciler) scrapeNode(ctx context.Context, p *corev1.Pod) scaler.Load {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	url := "http://" + net.JoinHostPort(p.Status.PodIP, strconv.Itoa(int(adminPort(p)))) + "/metrics"
	streams, err := scaler.Scrape(ctx, http.DefaultClient, url)
	return scaler.Load{Pod: p.Name, Streams: streams, OK: err == nil}
}

// adminPort is the pod's container port named admin (its /metrics).
func adminPort(p *corev1.Pod) int32 {
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.Name == "admin" {
				return port.ContainerPort
			}
		}
	}
	return specs.AdminPort
}

// reader reads pods straight from the API server (no cache of every pod).
func (r *SyncClusterReconciler) reader() client.Reader {
	if r.APIReader != nil {
		return r.APIReader
	}
	return r.Client
}

func ptrOr(p *int32, fallback int32) int32 {
	if p == nil {
		return fallback
	}
	return *p
}
