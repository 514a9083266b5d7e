package controller_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/operator/specs"
)

// fakeNode serves a node's /metrics with a number of open streams it can change.
type fakeNode struct {
	srv     *httptest.Server
	streams atomic.Int64
}

func startFakeNode(t *testing.T, streams int64) *fakeNode {
	n := &fakeNode{}
	n.streams.Store(streams)
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# TYPE lattice_stream_connections gauge\nlattice_stream_connections{format=\"native\"} %d\n", n.streams.Load())
	}))
	t.Cleanup(n.srv.Close)
	return n
}

// runningPod creates a pod of c's nodes, Running at 127.0.0.1, whose admin port is
// the fake node's (envtest runs no kubelet: the test writes the status).
func runningPod(t *testing.T, c *v1alpha1.SyncCluster, name string, n *fakeNode) {
	t.Helper()
	_, portText, _ := net.SplitHostPort(n.srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portText)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: specs.SelectorLabels(c)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "lattice", Image: "lattice:test",
			Ports: []corev1.ContainerPort{{Name: "admin", ContainerPort: int32(port)}}}}}}
	if err := k8s.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.0.0.1", PodIPs: []corev1.PodIP{{IP: "127.0.0.1"}}}
	if err := k8s.Status().Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// TestOperatorScalerFollowsTheStreams: in autoscaling mode Operator, the operator
// reads each node's /metrics and sets the Deployment's replicas through its scale
// subresource: up at once under load, within the bounds.
func TestOperatorScalerFollowsTheStreams(t *testing.T) {
	ns := newNamespace(t)
	createSecrets(t, ns, "mongodb://db:27017", "redis://redis:6379/0")
	c := sampleCluster(t, ns)
	c.Spec.Replicas = nil
	c.Spec.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 6, TargetStreamsPerPod: ptr.To[int32](100),
		Mode: v1alpha1.AutoscalingOperator}
	busy := []*fakeNode{startFakeNode(t, 250), startFakeNode(t, 250)}
	runningPod(t, c, "acme-a", busy[0])
	runningPod(t, c, "acme-b", busy[1])
	if err := k8s.Create(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	eventually(t, "5 nodes for 500 streams at 100 each", func() (bool, string) {
		err := get(t, ns, "acme", &d)
		return err == nil && ptr.Deref(d.Spec.Replicas, 0) == 5, fmt.Sprint(err, " ", ptr.Deref(d.Spec.Replicas, -1))
	})
	busy[0].streams.Store(5000) // a burst: at most maxReplicas
	eventually(t, "the maximum under a burst", func() (bool, string) {
		_ = get(t, ns, "acme", &d)
		return ptr.Deref(d.Spec.Replicas, 0) == 6, fmt.Sprint(ptr.Deref(d.Spec.Replicas, -1))
	})
}
