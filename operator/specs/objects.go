package specs

import (
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lattice-sync/lattice/api/v1alpha1"
)

func meta(c *v1alpha1.SyncCluster) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: Name(c), Namespace: c.Namespace, Labels: Labels(c)}
}

// ConfigMap holds c's node configuration (RenderNodeConfig).
func ConfigMap(c *v1alpha1.SyncCluster, nodeConfig []byte) *corev1.ConfigMap {
	return &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: meta(c),
		Data: map[string]string{ConfigFile: string(nodeConfig)}}
}

// Service is c's sync API (and the admin port, for scraping), in front of every node.
func Service(c *v1alpha1.SyncCluster) *corev1.Service {
	return &corev1.Service{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: meta(c),
		Spec: corev1.ServiceSpec{Selector: SelectorLabels(c), Ports: []corev1.ServicePort{
			{Name: "http", Port: HTTPPort, TargetPort: intstr.FromString("http"), Protocol: corev1.ProtocolTCP},
			{Name: "admin", Port: AdminPort, TargetPort: intstr.FromString("admin"), Protocol: corev1.ProtocolTCP},
		}},
	}
}

// ServiceAccount runs c's pods; it needs no API access (no token is mounted).
// Nil when the pods use an existing account.
func ServiceAccount(c *v1alpha1.SyncCluster) *corev1.ServiceAccount {
	if c.Spec.Pod.ServiceAccountName != "" {
		return nil
	}
	return &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: meta(c),
		AutomountServiceAccountToken: ptr.To(false)}
}

// PodDisruptionBudget keeps c's nodes up during voluntary disruptions; nil when
// disabled or when c may run fewer than two nodes (a budget would block drains).
func PodDisruptionBudget(c *v1alpha1.SyncCluster) *policyv1.PodDisruptionBudget {
	p := c.Spec.PodDisruptionBudget
	if (p.Enabled != nil && !*p.Enabled) || minReplicas(c) < 2 {
		return nil
	}
	unavailable := intstr.FromInt32(1)
	if p.MaxUnavailable != nil {
		unavailable = *p.MaxUnavailable
	}
	return &policyv1.PodDisruptionBudget{
		TypeMeta: metav1.TypeMeta{APIVersion: "policy/v1", Kind: "PodDisruptionBudget"}, ObjectMeta: meta(c),
		Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &unavailable,
			Selector: &metav1.LabelSelector{MatchLabels: SelectorLabels(c)}},
	}
}

// minReplicas is the fewest nodes c runs.
func minReplicas(c *v1alpha1.SyncCluster) int32 {
	if a := c.Spec.Autoscaling; a != nil {
		return max(a.MinReplicas, 1)
	}
	return *Replicas(c)
}

// HorizontalPodAutoscaler scales c's Deployment on CPU and, through a metrics
// adapter, on open streams per pod; nil unless c autoscales in HPA mode.
func HorizontalPodAutoscaler(c *v1alpha1.SyncCluster) *autoscalingv2.HorizontalPodAutoscaler {
	a := c.Spec.Autoscaling
	if a == nil || a.Mode != v1alpha1.AutoscalingHPA {
		return nil
	}
	var metrics []autoscalingv2.MetricSpec
	if a.TargetCPUUtilization != nil {
		metrics = append(metrics, autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: a.TargetCPUUtilization}}})
	}
	if a.TargetStreamsPerPod != nil {
		metrics = append(metrics, autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType,
			Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: StreamsMetric},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType,
					AverageValue: resource.NewQuantity(int64(*a.TargetStreamsPerPod), resource.DecimalSI)}}})
	}
	window := int32(300)
	if a.ScaleDownWindow != nil {
		window = int32(a.ScaleDownWindow.Seconds())
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"}, ObjectMeta: meta(c),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: Name(c)},
			MinReplicas:    ptr.To(max(a.MinReplicas, 1)), MaxReplicas: a.MaxReplicas, Metrics: metrics,
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
				StabilizationWindowSeconds: ptr.To(window)}},
		},
	}
}

// StreamsMetric is the nodes' gauge of open live streams (its Prometheus name).
const StreamsMetric = "lattice_stream_connections"

// NetworkPolicy admits the sync port from spec.networkPolicy.from and the admin
// port from metricsFrom (default: the namespace); nil unless enabled.
func NetworkPolicy(c *v1alpha1.SyncCluster) *networkingv1.NetworkPolicy {
	n := c.Spec.NetworkPolicy
	if !n.Enabled {
		return nil
	}
	tcp := corev1.ProtocolTCP
	httpPort, adminPort := intstr.FromInt32(HTTPPort), intstr.FromInt32(AdminPort)
	metricsFrom := n.MetricsFrom
	if metricsFrom == nil {
		metricsFrom = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta: metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"}, ObjectMeta: meta(c),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: SelectorLabels(c)},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{From: n.From, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &httpPort}}},
				{From: metricsFrom, Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &adminPort}}},
			},
		},
	}
}
