package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SyncCompactionSpec is one compaction run of a SyncCluster's tenant.
type SyncCompactionSpec struct {
	// Cluster is the SyncCluster (same namespace) whose tenant is compacted.
	//
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="cluster is immutable: create another SyncCompaction"
	Cluster string `json:"cluster"`
	// DryRun reports what would change and writes nothing.
	//
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
	// MaxDocsPerSecond rate-limits the run (default: the cluster's policy).
	//
	// +kubebuilder:validation:Minimum=1
	// +optional
	MaxDocsPerSecond *int32 `json:"maxDocsPerSecond,omitempty"`
}

// CompactionPhase is where a run is.
//
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed
type CompactionPhase string

// The phases of a compaction.
const (
	CompactionPending   CompactionPhase = "Pending"
	CompactionRunning   CompactionPhase = "Running"
	CompactionSucceeded CompactionPhase = "Succeeded"
	CompactionFailed    CompactionPhase = "Failed"
)

// CompactionSummary is what `lattice compact` reports on stdout.
type CompactionSummary struct {
	DocumentsScanned   int64 `json:"documentsScanned"`
	DocumentsRewritten int64 `json:"documentsRewritten"`
	TombstonesPurged   int64 `json:"tombstonesPurged"`
	ClientsFolded      int64 `json:"clientsFolded"`
	BytesBefore        int64 `json:"bytesBefore"`
	BytesAfter         int64 `json:"bytesAfter"`
	// DurationSeconds is how long the run took.
	DurationSeconds int64 `json:"durationSeconds"`
}

// SyncCompactionStatus is the run's progress and result.
type SyncCompactionStatus struct {
	// Phase is Pending, Running, Succeeded or Failed.
	//
	// +optional
	Phase CompactionPhase `json:"phase,omitempty"`
	// Job is the Job that runs the compaction.
	//
	// +optional
	Job string `json:"job,omitempty"`
	// StartTime is when the Job started.
	//
	// +optional
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// CompletionTime is when it finished.
	//
	// +optional
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
	// Summary is the run's result, once it succeeded.
	//
	// +optional
	Summary *CompactionSummary `json:"summary,omitempty"`
	// Message says why the run failed or what it waits for.
	//
	// +optional
	Message string `json:"message,omitempty"`
	// Conditions of the run.
	//
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// SyncCompaction is one compaction run, like a Backup of CloudNativePG.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=scomp,categories=lattice
// +kubebuilder:printcolumn:name="Cluster",type=string,JSONPath=`.spec.cluster`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Rewritten",type=integer,JSONPath=`.status.summary.documentsRewritten`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SyncCompaction struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   SyncCompactionSpec   `json:"spec"`
	Status SyncCompactionStatus `json:"status,omitempty"`
}

// SyncCompactionList is a list of SyncCompactions.
//
// +kubebuilder:object:root=true
type SyncCompactionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SyncCompaction `json:"items"`
}
