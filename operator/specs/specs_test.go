package specs

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/lattice-sync/lattice/api/v1alpha1"
)

// sample is a small tenant: fixed replicas, HS256 key, Redis, one typed collection.
func sample() *v1alpha1.SyncCluster {
	return &v1alpha1.SyncCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "tenants"},
		Spec: v1alpha1.SyncClusterSpec{
			Tenant:   "acme",
			Replicas: ptr.To[int32](3),
			MongoDB:  v1alpha1.MongoDBSpec{URISecret: v1alpha1.SecretKeyRef{Name: "acme-mongo", Key: "uri"}},
			Redis:    &v1alpha1.RedisSpec{URLSecret: v1alpha1.SecretKeyRef{Name: "acme-redis", Key: "url"}},
			Auth:     v1alpha1.AuthSpec{KeySecret: &v1alpha1.SecretKeyRef{Name: "acme-auth", Key: "secret"}, KeyType: "HS256"},
			Collections: map[string]v1alpha1.CollectionSpec{"workorders": {
				Fields: map[string]v1alpha1.FieldType{"hours": "counter", "notes": "text"},
				Schema: &apiextensionsv1.JSON{Raw: []byte(`{"type":"object","properties":{"status":{"type":"string"}}}`)},
			}},
		},
	}
}

func TestReplicasPDBAndAutoscaler(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*v1alpha1.SyncCluster)
		replicas *int32 // nil: left to the autoscaler
		pdb, hpa bool
	}{
		{"fixed", func(*v1alpha1.SyncCluster) {}, ptr.To[int32](3), true, false},
		{"default", func(c *v1alpha1.SyncCluster) { c.Spec.Replicas = nil }, ptr.To[int32](DefaultReplicas), true, false},
		{"one node: no budget", func(c *v1alpha1.SyncCluster) { c.Spec.Replicas = ptr.To[int32](1) }, ptr.To[int32](1), false, false},
		{"budget disabled", func(c *v1alpha1.SyncCluster) { c.Spec.PodDisruptionBudget.Enabled = ptr.To(false) }, ptr.To[int32](3), false, false},
		{"operator autoscaling", func(c *v1alpha1.SyncCluster) {
			c.Spec.Replicas = nil
			c.Spec.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 9, TargetStreamsPerPod: ptr.To[int32](5000), Mode: v1alpha1.AutoscalingOperator}
		}, nil, true, false},
		{"HPA autoscaling from one", func(c *v1alpha1.SyncCluster) {
			c.Spec.Replicas = nil
			c.Spec.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: 1, MaxReplicas: 9, TargetCPUUtilization: ptr.To[int32](70), Mode: v1alpha1.AutoscalingHPA}
		}, nil, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sample()
			tt.edit(c)
			got := Deployment(c, "lattice:1", "h").Spec.Replicas
			if (got == nil) != (tt.replicas == nil) || (got != nil && *got != *tt.replicas) {
				t.Errorf("replicas %v, want %v", ptr.Deref(got, -1), ptr.Deref(tt.replicas, -1))
			}
			if pdb := PodDisruptionBudget(c); (pdb != nil) != tt.pdb {
				t.Errorf("PDB %v, want %v", pdb != nil, tt.pdb)
			}
			if hpa := HorizontalPodAutoscaler(c); (hpa != nil) != tt.hpa {
				t.Errorf("HPA %v, want %v", hpa != nil, tt.hpa)
			}
		})
	}
}

func TestHPAMetrics(t *testing.T) {
	c := sample()
	c.Spec.Replicas = nil
	c.Spec.Autoscaling = &v1alpha1.AutoscalingSpec{MinReplicas: 2, MaxReplicas: 5, Mode: v1alpha1.AutoscalingHPA,
		TargetCPUUtilization: ptr.To[int32](60), TargetStreamsPerPod: ptr.To[int32](4000)}
	h := HorizontalPodAutoscaler(c)
	if len(h.Spec.Metrics) != 2 || h.Spec.Metrics[1].Pods.Metric.Name != StreamsMetric ||
		h.Spec.Metrics[1].Pods.Target.AverageValue.Value() != 4000 || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != 60 {
		t.Fatalf("metrics %+v", h.Spec.Metrics)
	}
	if h.Spec.ScaleTargetRef.Name != "acme" || *h.Spec.MinReplicas != 2 || h.Spec.MaxReplicas != 5 {
		t.Fatalf("target/bounds %+v", h.Spec)
	}
}

func TestConfigHashFollowsTheNodeConfiguration(t *testing.T) {
	_, base, err := RenderNodeConfig(sample())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*v1alpha1.SyncCluster)
		changed bool
	}{
		{"replicas", func(c *v1alpha1.SyncCluster) { c.Spec.Replicas = ptr.To[int32](7) }, false},
		{"pod labels", func(c *v1alpha1.SyncCluster) { c.Spec.Pod.Labels = map[string]string{"team": "x"} }, false},
		{"a field type", func(c *v1alpha1.SyncCluster) { c.Spec.Collections["workorders"].Fields["tags"] = "set" }, true},
		{"limits", func(c *v1alpha1.SyncCluster) { c.Spec.Limits = &v1alpha1.LimitsSpec{MaxBatch: ptr.To[int32](10)} }, true},
		{"retention", func(c *v1alpha1.SyncCluster) { c.Spec.Retention = &metav1.Duration{Duration: 3600e9} }, true},
	}
	for _, tt := range tests {
		c := sample()
		tt.edit(c)
		_, h, err := RenderNodeConfig(c)
		if err != nil || (h != base) != tt.changed {
			t.Errorf("%s: hash changed %v, want %v (%v)", tt.name, h != base, tt.changed, err)
		}
	}
}

func TestValidateNodeConfigNamesTheCollection(t *testing.T) {
	if err := ValidateNodeConfig(sample()); err != nil {
		t.Fatalf("sample: %v", err)
	}
	tests := []struct {
		name, want string
		edit       func(*v1alpha1.SyncCluster)
	}{
		{"schema not a schema", "collections.workorders", func(c *v1alpha1.SyncCluster) {
			c.Spec.Collections["workorders"] = v1alpha1.CollectionSpec{Schema: &apiextensionsv1.JSON{Raw: []byte(`{"type":12}`)}}
		}},
		{"typed path under a typed path", "collections.workorders", func(c *v1alpha1.SyncCluster) {
			c.Spec.Collections["workorders"].Fields["hours.x"] = "counter"
		}},
		{"bad collection name", "collections.work orders", func(c *v1alpha1.SyncCluster) {
			c.Spec.Collections["work orders"] = v1alpha1.CollectionSpec{}
		}},
		{"JWKS without audience", "auth.audience", func(c *v1alpha1.SyncCluster) {
			c.Spec.Auth = v1alpha1.AuthSpec{JWKSURL: "https://idp.example.com/jwks"}
		}},
	}
	for _, tt := range tests {
		c := sample()
		tt.edit(c)
		if err := ValidateNodeConfig(c); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error naming %s", tt.name, err, tt.want)
		}
	}
}

func TestCredentialsComeFromSecrets(t *testing.T) {
	c := sample()
	d := Deployment(c, "lattice:1", "h")
	env := map[string]*corev1.EnvVarSource{}
	for _, e := range d.Spec.Template.Spec.Containers[0].Env {
		env[e.Name] = e.ValueFrom
	}
	for name, secret := range map[string]string{"LATTICE_MONGODB_URI": "acme-mongo", "LATTICE_REDIS_URL": "acme-redis", "LATTICE_AUTH_HS256_SECRET": "acme-auth"} {
		if s := env[name]; s == nil || s.SecretKeyRef == nil || s.SecretKeyRef.Name != secret {
			t.Errorf("%s: %+v, want from Secret %s", name, s, secret)
		}
	}
	text, _, _ := RenderNodeConfig(c)
	if strings.Contains(string(text), "placeholder") || strings.Contains(string(text), "hs256Secret") {
		t.Errorf("credentials in the ConfigMap:\n%s", text)
	}
	c.Spec.Auth.KeyType = "PEM"
	d = Deployment(c, "lattice:1", "h")
	if n := len(d.Spec.Template.Spec.Volumes); n != 3 || d.Spec.Template.Spec.Volumes[2].Secret.SecretName != "acme-auth" {
		t.Errorf("PEM key not mounted: %+v", d.Spec.Template.Spec.Volumes)
	}
	if NodeConfig(c).Auth.PublicKeyFile != AuthDir+"/secret" {
		t.Errorf("publicKeyFile %q", NodeConfig(c).Auth.PublicKeyFile)
	}
}

func TestPodsAreLockedDown(t *testing.T) {
	p := Deployment(sample(), "lattice:1", "h").Spec.Template.Spec
	ct := p.Containers[0]
	if !*p.SecurityContext.RunAsNonRoot || !*ct.SecurityContext.ReadOnlyRootFilesystem || *ct.SecurityContext.AllowPrivilegeEscalation ||
		*p.AutomountServiceAccountToken || *p.TerminationGracePeriodSeconds < 30 {
		t.Fatalf("pod security: %+v / %+v", p.SecurityContext, ct.SecurityContext)
	}
	if ct.ReadinessProbe.HTTPGet.Path != "/readyz" || ct.LivenessProbe.HTTPGet.Path != "/healthz" {
		t.Fatalf("probes %+v %+v", ct.ReadinessProbe, ct.LivenessProbe)
	}
}

func TestOptionalObjects(t *testing.T) {
	c := sample()
	if NetworkPolicy(c) != nil {
		t.Error("network policy without networkPolicy.enabled")
	}
	c.Spec.NetworkPolicy.Enabled = true
	if np := NetworkPolicy(c); np == nil || len(np.Spec.Ingress) != 2 {
		t.Errorf("network policy %+v", np)
	}
	if ServiceAccount(c) == nil {
		t.Error("no service account")
	}
	c.Spec.Pod.ServiceAccountName = "existing"
	if ServiceAccount(c) != nil || Deployment(c, "i", "h").Spec.Template.Spec.ServiceAccountName != "existing" {
		t.Error("the override of the service account")
	}
}
