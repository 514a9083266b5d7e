package controller

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lattice-sync/lattice/api/v1alpha1"
	"github.com/lattice-sync/lattice/operator/specs"
)

// Reasons of the SyncCluster conditions.
const (
	ReasonInvalidSpec   = "InvalidSpec"
	ReasonMissingSecret = "MissingSecret"
	ReasonApplyFailed   = "ApplyFailed"
	ReasonRolloutStuck  = "RolloutStuck"
	ReasonRollingOut    = "RollingOut"
	ReasonAvailable     = "Available"
	ReasonUnavailable   = "Unavailable"
	ReasonAsExpected    = "AsExpected"
	ReasonDeleting      = "Deleting"
)

// updateStatus reads c's Deployment and writes c's status from it.
func (r *SyncClusterReconciler) updateStatus(ctx context.Context, c *v1alpha1.SyncCluster) error {
	var d appsv1.Deployment
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: specs.Name(c)}, &d); err != nil {
		return fmt.Errorf("read the Deployment of %s: %w", c.Name, err)
	}
	before := c.Status.DeepCopy()
	c.Status.ObservedGeneration = c.Generation
	c.Status.Replicas, c.Status.ReadyReplicas = d.Status.Replicas, d.Status.ReadyReplicas
	c.Status.Selector = labels.SelectorFromSet(specs.SelectorLabels(c)).String()
	c.Status.Endpoint = specs.Endpoint(c)
	for _, cond := range deploymentConditions(&d) {
		setCondition(c, cond)
	}
	if stuck := findCondition(c, v1alpha1.ConditionDegraded); stuck != nil && stuck.Status == metav1.ConditionTrue &&
		stuck.Reason == ReasonRolloutStuck && (before == nil || !conditionIs(before.Conditions, v1alpha1.ConditionDegraded, ReasonRolloutStuck)) {
		r.event(c, corev1.EventTypeWarning, ReasonRolloutStuck, stuck.Message)
	}
	if equality.Semantic.DeepEqual(before, &c.Status) {
		return nil // an autoscaled cluster is looked at every few seconds: write only changes
	}
	return r.Client.Status().Update(ctx, c)
}

// deploymentConditions derives Ready, Progressing and Degraded from the Deployment
// (a pure function: table-tested).
func deploymentConditions(d *appsv1.Deployment) []metav1.Condition {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	rolling := s.ObservedGeneration < d.Generation || s.UpdatedReplicas < want || s.Replicas > s.UpdatedReplicas
	stuck := deploymentStuck(d)
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonUnavailable,
		Message: fmt.Sprintf("%d of %d nodes ready", s.ReadyReplicas, want)}
	if s.ReadyReplicas >= want && s.AvailableReplicas >= want && want > 0 {
		ready.Status, ready.Reason = metav1.ConditionTrue, ReasonAvailable
	}
	progressing := metav1.Condition{Type: v1alpha1.ConditionProgressing, Status: metav1.ConditionFalse, Reason: ReasonAsExpected,
		Message: "every node runs the current configuration"}
	if rolling {
		progressing.Status, progressing.Reason = metav1.ConditionTrue, ReasonRollingOut
		progressing.Message = fmt.Sprintf("%d of %d nodes updated", s.UpdatedReplicas, want)
	}
	degraded := metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionFalse, Reason: ReasonAsExpected, Message: "no problem found"}
	if stuck != "" {
		degraded.Status, degraded.Reason, degraded.Message = metav1.ConditionTrue, ReasonRolloutStuck, stuck
	}
	return []metav1.Condition{ready, progressing, degraded}
}

// deploymentStuck is the Deployment's own verdict that its rollout stopped
// progressing ("" when it did not say so).
func deploymentStuck(d *appsv1.Deployment) string {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Status == corev1.ConditionFalse {
			return "rollout stopped progressing: " + c.Message
		}
		if c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue {
			return "nodes cannot be created: " + c.Message
		}
	}
	return ""
}

// degrade records a problem that stops reconciliation: Degraded true, Ready false
// (unless nodes still run), an Event, and the status written.
func (r *SyncClusterReconciler) degrade(ctx context.Context, c *v1alpha1.SyncCluster, reason, message string) error {
	if !conditionIs(c.Status.Conditions, v1alpha1.ConditionDegraded, reason) {
		r.event(c, corev1.EventTypeWarning, reason, message)
	}
	c.Status.ObservedGeneration = c.Generation
	setCondition(c, metav1.Condition{Type: v1alpha1.ConditionDegraded, Status: metav1.ConditionTrue, Reason: reason, Message: message})
	if ready := findCondition(c, v1alpha1.ConditionReady); ready == nil {
		setCondition(c, metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionFalse, Reason: reason, Message: message})
	}
	if err := r.Client.Status().Update(ctx, c); err != nil {
		return fmt.Errorf("report %s on %s: %w", reason, c.Name, err)
	}
	return nil
}

func (r *SyncClusterReconciler) event(c *v1alpha1.SyncCluster, kind, reason, message string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(c, nil, kind, reason, "Reconcile", "%s", message)
	}
}

func setCondition(c *v1alpha1.SyncCluster, cond metav1.Condition) {
	cond.ObservedGeneration = c.Generation
	apimeta.SetStatusCondition(&c.Status.Conditions, cond)
}

func findCondition(c *v1alpha1.SyncCluster, t string) *metav1.Condition {
	return apimeta.FindStatusCondition(c.Status.Conditions, t)
}

func conditionIs(conds []metav1.Condition, t, reason string) bool {
	c := apimeta.FindStatusCondition(conds, t)
	return c != nil && c.Status == metav1.ConditionTrue && c.Reason == reason
}
