package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SyncClusterSpec is what a platform team declares for one tenant.
//
// +kubebuilder:validation:XValidation:rule="!(has(self.replicas) && has(self.autoscaling))",message="set either replicas or autoscaling, not both"
// +kubebuilder:validation:XValidation:rule="has(self.redis) || (has(self.replicas) && self.replicas <= 1)",message="redis is required unless replicas is 0 or 1: the nodes tell each other of commits through it"
type SyncClusterSpec struct {
	// Tenant is the tenant id the cluster serves; tokens must carry it. It names the
	// MongoDB database and the Redis stream unless those are set, so it cannot change.
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="tenant is immutable: create another SyncCluster for another tenant"
	Tenant string `json:"tenant"`

	// Image is the lattice image the pods run (default: the operator's --default-image).
	//
	// +optional
	Image string `json:"image,omitempty"`

	// ImagePullPolicy of the lattice container.
	//
	// +optional
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`

	// Replicas is a fixed number of sync nodes (default 2). Leave it unset with
	// autoscaling.
	//
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`

	// Autoscaling lets the number of nodes follow the load.
	//
	// +optional
	Autoscaling *AutoscalingSpec `json:"autoscaling,omitempty"`

	// MongoDB is where the tenant's documents live.
	MongoDB MongoDBSpec `json:"mongodb"`

	// Redis carries commits between the nodes (required with more than one node).
	//
	// +optional
	Redis *RedisSpec `json:"redis,omitempty"`

	// Collections declares the collections served, in the shape of the node's YAML.
	//
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=256
	Collections map[string]CollectionSpec `json:"collections"`

	// Auth says how the nodes verify tokens.
	Auth AuthSpec `json:"auth"`

	// Limits bound requests and documents (the node's defaults when unset).
	//
	// +optional
	Limits *LimitsSpec `json:"limits,omitempty"`

	// Retention: a device not seen for longer must reset before syncing again
	// (default 2160h, 90 days).
	//
	// +optional
	Retention *metav1.Duration `json:"retention,omitempty"`

	// Compaction is when and how the tenant's metadata is compacted.
	//
	// +optional
	Compaction CompactionPolicy `json:"compaction,omitempty"`

	// Rollout bounds how pods are replaced when the spec changes.
	//
	// +optional
	Rollout RolloutSpec `json:"rollout,omitempty"`

	// PodDisruptionBudget keeps nodes up during voluntary disruptions (created with
	// two replicas or more).
	//
	// +optional
	PodDisruptionBudget PDBSpec `json:"podDisruptionBudget,omitempty"`

	// NetworkPolicy limits who may reach the nodes.
	//
	// +optional
	NetworkPolicy NetworkPolicySpec `json:"networkPolicy,omitempty"`

	// Observability sends traces to an OTLP collector.
	//
	// +optional
	Observability ObservabilitySpec `json:"observability,omitempty"`

	// Pod overrides parts of the nodes' pod template.
	//
	// +optional
	Pod PodOverrides `json:"pod,omitempty"`

	// DeletionPolicy says what deleting the SyncCluster does to the tenant's data:
	// Retain (default) leaves the database and the stream, Delete drops them.
	//
	// +kubebuilder:validation:Enum=Retain;Delete
	// +kubebuilder:default=Retain
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`
}

// DeletionPolicy is Retain or Delete.
type DeletionPolicy string

// The deletion policies.
const (
	DeletionRetain DeletionPolicy = "Retain"
	DeletionDelete DeletionPolicy = "Delete"
)

// SyncClusterStatus is what the operator observed.
type SyncClusterStatus struct {
	// ObservedGeneration is the generation the status describes.
	//
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready, Progressing, Degraded.
	//
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Replicas is the number of nodes the Deployment has (the scale subresource's
	// status).
	//
	// +optional
	Replicas int32 `json:"replicas,omitempty"`

	// ReadyReplicas is the number of nodes ready to serve.
	//
	// +optional
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`

	// Selector selects the nodes' pods (label selector in string form, for /scale).
	//
	// +optional
	Selector string `json:"selector,omitempty"`

	// Endpoint is the in-cluster URL of the tenant's sync API.
	//
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// LastCompaction is the latest finished compaction.
	//
	// +optional
	LastCompaction *CompactionRecord `json:"lastCompaction,omitempty"`
}

// CompactionRecord names a finished compaction.
type CompactionRecord struct {
	// Name of the SyncCompaction.
	Name string `json:"name"`
	// CompletionTime is when it finished.
	CompletionTime metav1.Time `json:"completionTime"`
	// Succeeded reports its outcome.
	Succeeded bool `json:"succeeded"`
}

// Condition types of a SyncCluster.
const (
	ConditionReady       = "Ready"
	ConditionProgressing = "Progressing"
	ConditionDegraded    = "Degraded"
)

// SyncCluster is one tenant's sync cluster.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:subresource:scale:specpath=.spec.replicas,statuspath=.status.replicas,selectorpath=.status.selector
// +kubebuilder:resource:shortName=sc;syncc,categories=lattice
// +kubebuilder:printcolumn:name="Tenant",type=string,JSONPath=`.spec.tenant`
// +kubebuilder:printcolumn:name="Replicas",type=integer,JSONPath=`.status.replicas`
// +kubebuilder:printcolumn:name="Ready",type=integer,JSONPath=`.status.readyReplicas`
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SyncCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SyncClusterSpec   `json:"spec"`
	Status SyncClusterStatus `json:"status,omitempty"`
}

// SyncClusterList is a list of SyncClusters.
//
// +kubebuilder:object:root=true
type SyncClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SyncCluster `json:"items"`
}
