package controller

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/lattice-sync/lattice/api/v1alpha1"
)

// secretRef is a Secret key c's pods read, with the spec field that names it.
type secretRef struct {
	field string
	ref   v1alpha1.SecretKeyRef
}

// secretRefs lists every Secret key c's pods need.
func secretRefs(c *v1alpha1.SyncCluster) []secretRef {
	refs := []secretRef{{"spec.mongodb.uriSecret", c.Spec.MongoDB.URISecret}}
	if c.Spec.Redis != nil {
		refs = append(refs, secretRef{"spec.redis.urlSecret", c.Spec.Redis.URLSecret})
	}
	if k := c.Spec.Auth.KeySecret; k != nil {
		refs = append(refs, secretRef{"spec.auth.keySecret", *k})
	}
	return refs
}

// missingSecrets says which Secret or key c's pods would not find ("" when all are
// there): pods would otherwise sit in CreateContainerConfigError with no word on
// the SyncCluster.
func (r *SyncClusterReconciler) missingSecrets(ctx context.Context, c *v1alpha1.SyncCluster) string {
	for _, s := range secretRefs(c) {
		if _, err := r.secretValue(ctx, c.Namespace, s.ref); err != nil {
			return fmt.Sprintf("%s: %v", s.field, err)
		}
	}
	return ""
}

// secretValue reads one key of a Secret.
func (r *SyncClusterReconciler) secretValue(ctx context.Context, namespace string, ref v1alpha1.SecretKeyRef) (string, error) {
	var s corev1.Secret
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: namespace, Name: ref.Name}, &s)
	switch {
	case apierrors.IsNotFound(err):
		return "", fmt.Errorf("no Secret %s in namespace %s", ref.Name, namespace)
	case err != nil:
		return "", fmt.Errorf("read Secret %s: %w", ref.Name, err)
	}
	v, ok := s.Data[ref.Key]
	if !ok || len(v) == 0 {
		return "", fmt.Errorf("key %q missing from Secret %s", ref.Key, ref.Name)
	}
	return string(v), nil
}

// clustersUsingSecret maps a Secret to the SyncClusters of its namespace that
// read it, so a Secret that appears or changes is noticed at once.
func (r *SyncClusterReconciler) clustersUsingSecret(ctx context.Context, obj client.Object) []reconcileRequest {
	var list v1alpha1.SyncClusterList
	if err := r.Client.List(ctx, &list, client.InNamespace(obj.GetNamespace())); err != nil {
		return nil
	}
	var out []reconcileRequest
	for i := range list.Items {
		for _, s := range secretRefs(&list.Items[i]) {
			if s.ref.Name == obj.GetName() {
				out = append(out, requestFor(&list.Items[i]))
				break
			}
		}
	}
	return out
}
