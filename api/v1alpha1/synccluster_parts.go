package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// SecretKeyRef names one key of a Secret in the SyncCluster's namespace.
type SecretKeyRef struct {
	// Name of the Secret.
	//
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// Key in the Secret's data.
	//
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// AutoscalingSpec sizes the cluster by load.
//
// +kubebuilder:validation:XValidation:rule="self.maxReplicas >= self.minReplicas",message="autoscaling.maxReplicas must be at least minReplicas"
// +kubebuilder:validation:XValidation:rule="has(self.targetStreamsPerPod) || has(self.targetCPUUtilization)",message="autoscaling needs targetStreamsPerPod, targetCPUUtilization or both"
// +kubebuilder:validation:XValidation:rule="(has(self.mode) && self.mode == 'HPA') || has(self.targetStreamsPerPod)",message="autoscaling mode Operator scales on targetStreamsPerPod: set it, or use mode HPA to scale on CPU"
type AutoscalingSpec struct {
	// MinReplicas is the fewest nodes (default 2).
	//
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:default=2
	// +optional
	MinReplicas int32 `json:"minReplicas,omitempty"`
	// MaxReplicas is the most nodes.
	//
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxReplicas int32 `json:"maxReplicas"`
	// TargetStreamsPerPod is the open live streams each node should hold on average.
	//
	// +kubebuilder:validation:Minimum=1
	// +optional
	TargetStreamsPerPod *int32 `json:"targetStreamsPerPod,omitempty"`
	// TargetCPUUtilization is the average CPU use, in percent of the request.
	//
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	TargetCPUUtilization *int32 `json:"targetCPUUtilization,omitempty"`
	// Mode is HPA (a HorizontalPodAutoscaler; streams per pod need a metrics
	// adapter) or Operator (the operator reads the nodes' /metrics and scales
	// through the scale subresource; no adapter needed). Default Operator.
	//
	// +kubebuilder:validation:Enum=HPA;Operator
	// +kubebuilder:default=Operator
	// +optional
	Mode AutoscalingMode `json:"mode,omitempty"`
	// ScaleDownWindow is how long the load must stay low before nodes are removed
	// (default 5m).
	//
	// +optional
	ScaleDownWindow *metav1.Duration `json:"scaleDownWindow,omitempty"`
}

// AutoscalingMode is HPA or Operator.
type AutoscalingMode string

// The autoscaling modes.
const (
	AutoscalingHPA      AutoscalingMode = "HPA"
	AutoscalingOperator AutoscalingMode = "Operator"
)

// MongoDBSpec locates the tenant's database.
//
// +kubebuilder:validation:XValidation:rule="has(self.database) == has(oldSelf.database) && (!has(self.database) || self.database == oldSelf.database)",message="mongodb.database is immutable: the tenant's documents live there"
type MongoDBSpec struct {
	// URISecret holds the connection string (mongodb:// or mongodb+srv://).
	URISecret SecretKeyRef `json:"uriSecret"`
	// Database is the database (default lattice_<tenant>).
	//
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9_-]+$`
	// +optional
	Database string `json:"database,omitempty"`
	// WriteConcern is "majority" (default) or a number of members.
	//
	// +kubebuilder:validation:Pattern=`^(majority|[1-9][0-9]?)$`
	// +optional
	WriteConcern string `json:"writeConcern,omitempty"`
}

// RedisSpec locates the Redis that carries commits between nodes.
type RedisSpec struct {
	// URLSecret holds the URL (redis:// or rediss://).
	URLSecret SecretKeyRef `json:"urlSecret"`
	// StreamPrefix starts the stream's key, which is StreamPrefix+tenant (default
	// "lattice:events:").
	//
	// +kubebuilder:validation:MaxLength=200
	// +optional
	StreamPrefix string `json:"streamPrefix,omitempty"`
	// MaxLen bounds the stream (default 10000).
	//
	// +kubebuilder:validation:Minimum=100
	// +optional
	MaxLen *int64 `json:"maxLen,omitempty"`
}

// CollectionSpec declares one collection, as the node's YAML does.
type CollectionSpec struct {
	// Fields maps dotted paths to counter, set, text or list (others are
	// last-writer-wins).
	//
	// +kubebuilder:validation:MaxProperties=1000
	// +optional
	Fields map[string]FieldType `json:"fields,omitempty"`
	// Schema is a JSON Schema (draft 2020-12) every document must satisfy.
	//
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	// +optional
	Schema *apiextensionsv1.JSON `json:"schema,omitempty"`
}

// FieldType is a typed field's CRDT.
//
// +kubebuilder:validation:Enum=counter;set;text;list
type FieldType string

// AuthSpec says how tokens are verified: with a JWKS URL or a key in a Secret.
//
// +kubebuilder:validation:XValidation:rule="has(self.jwksURL) != has(self.keySecret)",message="auth needs exactly one of jwksURL and keySecret"
// +kubebuilder:validation:XValidation:rule="!has(self.jwksURL) || (has(self.audience) && has(self.issuer))",message="auth.jwksURL needs audience and issuer, so tokens minted for other services are refused"
type AuthSpec struct {
	// JWKSURL is fetched (and refreshed) for the verification keys.
	//
	// +kubebuilder:validation:Pattern=`^https?://`
	// +optional
	JWKSURL string `json:"jwksURL,omitempty"`
	// KeySecret holds an HS256 secret or a PEM public key (keyType).
	//
	// +optional
	KeySecret *SecretKeyRef `json:"keySecret,omitempty"`
	// KeyType is HS256 (default) or PEM.
	//
	// +kubebuilder:validation:Enum=HS256;PEM
	// +kubebuilder:default=HS256
	// +optional
	KeyType string `json:"keyType,omitempty"`
	// Audience must equal the tokens' aud.
	//
	// +optional
	Audience string `json:"audience,omitempty"`
	// Issuer must equal the tokens' iss.
	//
	// +optional
	Issuer string `json:"issuer,omitempty"`
	// MaxTokenLifetime refuses tokens living longer (or without iat).
	//
	// +optional
	MaxTokenLifetime *metav1.Duration `json:"maxTokenLifetime,omitempty"`
}

// LimitsSpec bounds requests and documents; unset fields keep the node's defaults.
type LimitsSpec struct {
	// MaxBodyBytes bounds a request body.
	//
	// +kubebuilder:validation:Minimum=1024
	// +optional
	MaxBodyBytes *int64 `json:"maxBodyBytes,omitempty"`
	// MaxBatch bounds the mutations of one push.
	//
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxBatch *int32 `json:"maxBatch,omitempty"`
	// MaxDocBytes bounds a document with its merge metadata.
	//
	// +kubebuilder:validation:Minimum=1024
	// +optional
	MaxDocBytes *int32 `json:"maxDocBytes,omitempty"`
	// MaxDepth bounds path depth plus value nesting.
	//
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=128
	// +optional
	MaxDepth *int32 `json:"maxDepth,omitempty"`
	// RequestsPerSecond bounds each user's requests (0: no limit).
	//
	// +kubebuilder:validation:Minimum=0
	// +optional
	RequestsPerSecond *int32 `json:"requestsPerSecond,omitempty"`
	// Burst is the rate limit's bucket size.
	//
	// +kubebuilder:validation:Minimum=1
	// +optional
	Burst *int32 `json:"burst,omitempty"`
	// MaxStreams bounds the live streams of one node.
	//
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxStreams *int32 `json:"maxStreams,omitempty"`
	// MaxStreamsPerSubject bounds one user's streams on one node.
	//
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxStreamsPerSubject *int32 `json:"maxStreamsPerSubject,omitempty"`
}

// CompactionPolicy says when compaction runs.
type CompactionPolicy struct {
	// Schedule is a cron schedule for `lattice compact` (default "0 3 * * *").
	//
	// +kubebuilder:validation:MinLength=9
	// +optional
	Schedule string `json:"schedule,omitempty"`
	// Suspend stops scheduled and bloat-triggered compactions.
	//
	// +optional
	Suspend bool `json:"suspend,omitempty"`
	// MaxDocsPerSecond rate-limits a compaction (default 500).
	//
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxDocsPerSecond *int32 `json:"maxDocsPerSecond,omitempty"`
	// MetadataBytesPerDocument: a compaction starts when the nodes report more
	// merge metadata per document on average.
	//
	// +kubebuilder:validation:Minimum=1
	// +optional
	MetadataBytesPerDocument *int32 `json:"metadataBytesPerDocument,omitempty"`
	// TombstonePercent: a compaction starts when more of the documents are deletions.
	//
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	TombstonePercent *int32 `json:"tombstonePercent,omitempty"`
}

// RolloutSpec bounds a rolling update.
type RolloutSpec struct {
	// MaxSurge is how many extra nodes may start during a rollout (default 25%).
	//
	// +optional
	MaxSurge *intstr.IntOrString `json:"maxSurge,omitempty"`
	// MaxUnavailable is how many nodes may be missing during a rollout (default 0).
	//
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// PDBSpec configures the PodDisruptionBudget.
type PDBSpec struct {
	// Enabled creates the budget (default true; only with two replicas or more).
	//
	// +optional
	Enabled *bool `json:"enabled,omitempty"`
	// MaxUnavailable is how many nodes a disruption may take (default 1).
	//
	// +optional
	MaxUnavailable *intstr.IntOrString `json:"maxUnavailable,omitempty"`
}

// NetworkPolicySpec configures the NetworkPolicy.
type NetworkPolicySpec struct {
	// Enabled creates a policy that admits the sync port only from From (and the
	// metrics port only from MetricsFrom).
	//
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// From may reach the sync API (default: anyone).
	//
	// +optional
	From []networkingv1.NetworkPolicyPeer `json:"from,omitempty"`
	// MetricsFrom may scrape /metrics on the admin port (default: the same namespace).
	//
	// +optional
	MetricsFrom []networkingv1.NetworkPolicyPeer `json:"metricsFrom,omitempty"`
}

// ObservabilitySpec sends traces to an OTLP collector.
type ObservabilitySpec struct {
	// OTLPEndpoint is the collector's OTLP/HTTP endpoint (none: no traces sent).
	//
	// +kubebuilder:validation:Pattern=`^https?://`
	// +optional
	OTLPEndpoint string `json:"otlpEndpoint,omitempty"`
	// SamplingPercent is the share of traces kept (default 10).
	//
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	SamplingPercent *int32 `json:"samplingPercent,omitempty"`
}

// PodOverrides are the parts of the nodes' pod template a platform team may set.
type PodOverrides struct {
	// Labels are added to the pods.
	//
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are added to the pods.
	//
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
	// Resources of the lattice container (default: requests 250m CPU, 256Mi).
	//
	// +optional
	Resources *corev1.ResourceRequirements `json:"resources,omitempty"`
	// NodeSelector constrains where the pods run.
	//
	// +optional
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// Tolerations of the pods.
	//
	// +optional
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// Affinity of the pods.
	//
	// +optional
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// TopologySpreadConstraints of the pods (default: spread over zones and nodes).
	//
	// +optional
	TopologySpreadConstraints []corev1.TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty"`
	// PriorityClassName of the pods.
	//
	// +optional
	PriorityClassName string `json:"priorityClassName,omitempty"`
	// ServiceAccountName runs the pods under an existing ServiceAccount instead of
	// the one the operator creates.
	//
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// Env adds environment variables to the lattice container.
	//
	// +optional
	Env []corev1.EnvVar `json:"env,omitempty"`
}
