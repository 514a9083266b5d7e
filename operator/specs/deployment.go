package specs

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/lattice-sync/lattice/api/v1alpha1"
)

// DefaultReplicas is the node count of a SyncCluster that sets neither replicas
// nor autoscaling.
const DefaultReplicas = 2

// drainSeconds is the pods' termination grace: long enough for a node to stop
// accepting, tell its streams to reconnect elsewhere and finish its pushes.
const drainSeconds = 60

// Deployment is c's sync nodes, running image with the configuration whose hash is
// configHash. With autoscaling it leaves replicas unset, to the autoscaler.
func Deployment(c *v1alpha1.SyncCluster, image, configHash string) *appsv1.Deployment {
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: Name(c), Namespace: c.Namespace, Labels: Labels(c)},
		Spec: appsv1.DeploymentSpec{
			Replicas: Replicas(c),
			Selector: &metav1.LabelSelector{MatchLabels: SelectorLabels(c)},
			Strategy: rollout(c.Spec.Rollout),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels(c), Annotations: podAnnotations(c, configHash)},
				Spec:       podSpec(c, image),
			},
		},
	}
	return d
}

// Replicas is the Deployment's replica count: nil with autoscaling.
func Replicas(c *v1alpha1.SyncCluster) *int32 {
	switch {
	case c.Spec.Autoscaling != nil:
		return nil
	case c.Spec.Replicas != nil:
		return ptr.To(*c.Spec.Replicas)
	}
	return ptr.To[int32](DefaultReplicas)
}

func podAnnotations(c *v1alpha1.SyncCluster, configHash string) map[string]string {
	a := map[string]string{}
	for k, v := range c.Spec.Pod.Annotations {
		a[k] = v
	}
	a[AnnotationConfigHash] = configHash
	return a
}

func rollout(r v1alpha1.RolloutSpec) appsv1.DeploymentStrategy {
	surge, unavailable := intstr.FromString("25%"), intstr.FromInt32(0)
	if r.MaxSurge != nil {
		surge = *r.MaxSurge
	}
	if r.MaxUnavailable != nil {
		unavailable = *r.MaxUnavailable
	}
	return appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable}}
}

func podSpec(c *v1alpha1.SyncCluster, image string) corev1.PodSpec {
	o := c.Spec.Pod
	return corev1.PodSpec{
		ServiceAccountName:            serviceAccountName(c),
		AutomountServiceAccountToken:  ptr.To(false),
		TerminationGracePeriodSeconds: ptr.To[int64](drainSeconds),
		SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532),
			RunAsGroup: ptr.To[int64](65532), FSGroup: ptr.To[int64](65532),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		Containers:                []corev1.Container{container(c, image)},
		Volumes:                   volumes(c),
		NodeSelector:              o.NodeSelector,
		Tolerations:               o.Tolerations,
		Affinity:                  o.Affinity,
		PriorityClassName:         o.PriorityClassName,
		TopologySpreadConstraints: topologySpread(c),
	}
}

func container(c *v1alpha1.SyncCluster, image string) corev1.Container {
	pullPolicy := c.Spec.ImagePullPolicy
	if pullPolicy == "" {
		pullPolicy = corev1.PullIfNotPresent
	}
	return corev1.Container{
		Name: "lattice", Image: image, ImagePullPolicy: pullPolicy,
		Args: []string{"serve", "--config", ConfigDir + "/" + ConfigFile},
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: HTTPPort, Protocol: corev1.ProtocolTCP},
			{Name: "admin", ContainerPort: AdminPort, Protocol: corev1.ProtocolTCP}},
		Env:            env(c),
		Resources:      resources(c),
		VolumeMounts:   volumeMounts(c),
		LivenessProbe:  probe("/healthz", 3),
		ReadinessProbe: probe("/readyz", 1),
		StartupProbe:   &corev1.Probe{ProbeHandler: httpGet("/healthz"), PeriodSeconds: 2, FailureThreshold: 30},
		SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
			RunAsNonRoot: ptr.To(true), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
	}
}

func httpGet(path string) corev1.ProbeHandler {
	return corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("admin")}}
}

func probe(path string, failures int32) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: httpGet(path), PeriodSeconds: 5, TimeoutSeconds: 2, FailureThreshold: failures}
}

// env passes the credentials from their Secrets, and the trace settings.
func env(c *v1alpha1.SyncCluster) []corev1.EnvVar {
	s := c.Spec
	e := []corev1.EnvVar{secretEnv("LATTICE_MONGODB_URI", s.MongoDB.URISecret)}
	if s.Redis != nil {
		e = append(e, secretEnv("LATTICE_REDIS_URL", s.Redis.URLSecret))
	}
	if s.Auth.KeySecret != nil && s.Auth.KeyType != "PEM" {
		e = append(e, secretEnv("LATTICE_AUTH_HS256_SECRET", *s.Auth.KeySecret))
	}
	if o := s.Observability; o.OTLPEndpoint != "" {
		percent := int32(10)
		if o.SamplingPercent != nil {
			percent = *o.SamplingPercent
		}
		e = append(e, corev1.EnvVar{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Value: o.OTLPEndpoint},
			corev1.EnvVar{Name: "OTEL_SERVICE_NAME", Value: "lattice-" + s.Tenant},
			corev1.EnvVar{Name: "OTEL_TRACES_SAMPLER", Value: "parentbased_traceidratio"},
			corev1.EnvVar{Name: "OTEL_TRACES_SAMPLER_ARG", Value: strconv.FormatFloat(float64(percent)/100, 'f', -1, 64)})
	}
	return append(e, s.Pod.Env...)
}

func secretEnv(name string, ref v1alpha1.SecretKeyRef) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: ref.Name}, Key: ref.Key}}}
}

func resources(c *v1alpha1.SyncCluster) corev1.ResourceRequirements {
	if r := c.Spec.Pod.Resources; r != nil {
		return *r
	}
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
	}
}

func volumes(c *v1alpha1.SyncCluster) []corev1.Volume {
	v := []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: Name(c)}}}},
		{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if k := c.Spec.Auth.KeySecret; k != nil && c.Spec.Auth.KeyType == "PEM" {
		v = append(v, corev1.Volume{Name: "auth", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: k.Name, Items: []corev1.KeyToPath{{Key: k.Key, Path: k.Key}}}}})
	}
	return v
}

func volumeMounts(c *v1alpha1.SyncCluster) []corev1.VolumeMount {
	m := []corev1.VolumeMount{{Name: "config", MountPath: ConfigDir, ReadOnly: true}, {Name: "tmp", MountPath: "/tmp"}}
	if c.Spec.Auth.KeySecret != nil && c.Spec.Auth.KeyType == "PEM" {
		m = append(m, corev1.VolumeMount{Name: "auth", MountPath: AuthDir, ReadOnly: true})
	}
	return m
}

// topologySpread spreads the nodes over zones and hosts unless c says otherwise.
func topologySpread(c *v1alpha1.SyncCluster) []corev1.TopologySpreadConstraint {
	if t := c.Spec.Pod.TopologySpreadConstraints; t != nil {
		return t
	}
	sel := &metav1.LabelSelector{MatchLabels: SelectorLabels(c)}
	out := make([]corev1.TopologySpreadConstraint, 0, 2)
	for _, key := range []string{"topology.kubernetes.io/zone", "kubernetes.io/hostname"} {
		out = append(out, corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: key,
			WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: sel})
	}
	return out
}

// serviceAccountName is the pods' ServiceAccount: the override, or c's own.
func serviceAccountName(c *v1alpha1.SyncCluster) string {
	if n := c.Spec.Pod.ServiceAccountName; n != "" {
		return n
	}
	return Name(c)
}
