package chart_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var latticeOnce struct {
	sync.Once
	path string
	err  error
}

// latticeBinary builds cmd/lattice once.
func latticeBinary(t *testing.T) string {
	t.Helper()
	latticeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lattice-chart-test")
		if err != nil {
			latticeOnce.err = err
			return
		}
		latticeOnce.path = filepath.Join(dir, "lattice")
		cmd := exec.Command("go", "build", "-o", latticeOnce.path, "./cmd/lattice")
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			latticeOnce.err = fmt.Errorf("go build ./cmd/lattice: %w\n%s", err, out)
		}
	})
	if latticeOnce.err != nil {
		t.Fatal(latticeOnce.err)
	}
	return latticeOnce.path
}

// TestOperatorRunsWithTheRenderedRBAC runs `lattice operator` with the arguments of
// the rendered Deployment, as the rendered ServiceAccount (impersonated) bound by the
// rendered RBAC, against the API server: it must win the election, reconcile a
// SyncCluster of config/samples into its children and status, and never be refused
// (no "forbidden" in its log). With watchNamespaces it must also leave SyncClusters
// elsewhere alone.
func TestOperatorRunsWithTheRenderedRBAC(t *testing.T) {
	cases := []struct {
		name, release, namespace, watched, unwatched string
		values                                       map[string]any
	}{
		{"cluster-wide", releaseName, releaseNamespace, "tenant-a", "", defaults},
		{"watchNamespaces", "scoped", "scoped-system", "tenant-b", "tenant-c",
			map[string]any{"watchNamespaces": []any{"tenant-b"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			objs := render(t, c.release, c.namespace, c.values)
			ensureNamespaces(t, namespacesOf(objs, c.namespace, c.watched, c.unwatched)...)
			installCRDs(t, objs)
			var deployment *unstructured.Unstructured
			for _, u := range objs {
				switch u.GetKind() {
				case "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding":
					if err := apply(context.Background(), kube(t), u, false); err != nil {
						t.Fatal(err)
					}
				case "Deployment":
					deployment = u
				}
			}
			log := startOperator(t, deployment)
			defer func() {
				if t.Failed() {
					t.Logf("operator log:\n%s", log())
				}
			}()
			reconciled(t, c.watched)
			lease(t, c.namespace)
			if c.unwatched != "" {
				ignored(t, c.unwatched)
			}
			for _, line := range strings.Split(log(), "\n") {
				if strings.Contains(strings.ToLower(line), "forbidden") {
					t.Errorf("the operator was refused something: %s", line)
				}
			}
		})
	}
}

// startOperator starts the binary with the container's arguments (metrics and probes
// off, so that no port is taken) as the pod's ServiceAccount; it is stopped at the
// end of the test. The returned function reads its log so far.
func startOperator(t *testing.T, deployment *unstructured.Unstructured) func() string {
	t.Helper()
	spec, _, _ := unstructured.NestedMap(deployment.Object, "spec", "template", "spec")
	sa, _ := spec["serviceAccountName"].(string)
	containers, _ := spec["containers"].([]any)
	args, _, _ := unstructured.NestedStringSlice(containers[0].(map[string]any), "args")
	args = append(args, "--metrics-addr=0", "--health-addr=0")
	user := "system:serviceaccount:" + deployment.GetNamespace() + ":" + sa
	logPath := filepath.Join(t.TempDir(), "operator.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(latticeBinary(t), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigAs(t, user), "OTEL_EXPORTER_OTLP_ENDPOINT=",
		"LATTICE_WATCH_NAMESPACES=")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		_ = logFile.Close()
	})
	return func() string { b, _ := os.ReadFile(logPath); return string(b) }
}

// kubeconfigAs writes a kubeconfig for the API server that impersonates user.
func kubeconfigAs(t *testing.T, user string) string {
	t.Helper()
	kube(t)
	cfg := apiServer.cfg
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData,
		ClientKeyData: cfg.KeyData, Token: cfg.BearerToken, Impersonate: user}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// createSample creates the small sample SyncCluster (config/samples) and its Secrets
// in namespace.
func createSample(t *testing.T, namespace string) *unstructured.Unstructured {
	t.Helper()
	ctx := context.Background()
	secrets := map[string]map[string]any{
		"acme-mongodb": {"uri": "mongodb://mongo.databases:27017"},
		"acme-redis":   {"url": "redis://redis.databases:6379/0"},
		"acme-auth":    {"secret": strings.Repeat("0123456789abcdef", 4)},
	}
	for name, data := range secrets {
		s := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": name, "namespace": namespace}, "stringData": data}}
		if err := apply(ctx, kube(t), s, false); err != nil {
			t.Fatal(err)
		}
	}
	objs, err := decodeAll(readFile(t, filepath.Join(repo, "config", "samples", "sync_v1alpha1_synccluster_small.yaml")))
	if err != nil || len(objs) != 1 {
		t.Fatalf("the small sample: %v (%d objects)", err, len(objs))
	}
	sc := objs[0]
	sc.SetNamespace(namespace)
	if err := apply(ctx, kube(t), sc, false); err != nil {
		t.Fatal(err)
	}
	return sc
}

// reconciled creates the sample in namespace and waits for the operator to take it:
// its finalizer, its Deployment and a status for its generation.
func reconciled(t *testing.T, namespace string) {
	t.Helper()
	sc := createSample(t, namespace)
	eventually(t, "SyncCluster "+namespace+"/"+sc.GetName()+" reconciled", func() (bool, string) {
		got := sc.DeepCopy()
		if err := kube(t).Get(context.Background(), client.ObjectKeyFromObject(sc), got); err != nil {
			return false, err.Error()
		}
		observed, _, _ := unstructured.NestedInt64(got.Object, "status", "observedGeneration")
		if len(got.GetFinalizers()) == 0 || observed != got.GetGeneration() {
			return false, fmt.Sprintf("finalizers %v, observedGeneration %d of %d", got.GetFinalizers(), observed, got.GetGeneration())
		}
		d := &unstructured.Unstructured{}
		d.SetAPIVersion("apps/v1")
		d.SetKind("Deployment")
		if err := kube(t).Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: sc.GetName()}, d); err != nil {
			return false, "Deployment: " + err.Error()
		}
		return true, ""
	})
}

// lease waits for the operator's Lease in namespace to have a holder.
func lease(t *testing.T, namespace string) {
	t.Helper()
	eventually(t, "the operator's Lease in "+namespace, func() (bool, string) {
		l := &unstructured.Unstructured{}
		l.SetAPIVersion("coordination.k8s.io/v1")
		l.SetKind("Lease")
		key := client.ObjectKey{Namespace: namespace, Name: "lattice-operator.sync.lattice.dev"}
		if err := kube(t).Get(context.Background(), key, l); err != nil {
			return false, err.Error()
		}
		holder, _, _ := unstructured.NestedString(l.Object, "spec", "holderIdentity")
		return holder != "", "no holder"
	})
}

// ignored creates the sample in an unwatched namespace and checks, after the watched
// one was reconciled, that the operator leaves it alone for a few seconds.
func ignored(t *testing.T, namespace string) {
	t.Helper()
	sc := createSample(t, namespace)
	time.Sleep(3 * time.Second)
	got := sc.DeepCopy()
	if err := kube(t).Get(context.Background(), client.ObjectKeyFromObject(sc), got); err != nil {
		t.Fatal(err)
	}
	if len(got.GetFinalizers()) > 0 || got.Object["status"] != nil {
		t.Errorf("the SyncCluster in unwatched %s was reconciled: finalizers %v, status %v",
			namespace, got.GetFinalizers(), got.Object["status"])
	}
}
