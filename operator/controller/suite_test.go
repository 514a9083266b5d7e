package controller_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/lattice-sync/lattice/internal/testenv"
	"github.com/lattice-sync/lattice/operator"
)

// The envtest suite: a real kube-apiserver and etcd (built by hack/envtest.sh), the
// CRDs of config/crd/bases, and the operator's manager running against them. envtest
// runs no controllers of its own: no pods start, Deployments get no status and
// nothing is garbage-collected, so tests set Deployment status themselves and check
// owner references rather than cascading deletion.

var (
	k8s     client.Client
	restCfg *rest.Config
	repo    string
)

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	repo = filepath.Join(filepath.Dir(file), "..", "..")
	assets, err := testenv.EnvtestAssets(repo)
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest:", err)
		return 1
	}
	env := &envtest.Environment{CRDDirectoryPaths: []string{filepath.Join(repo, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true, BinaryAssetsDirectory: assets}
	restCfg, err = env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "envtest: start:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	mgr, err := operator.NewManager(restCfg, operator.Options{DefaultImage: "lattice:test", MetricsAddr: "0", HealthAddr: "0",
		ScaleInterval: 200 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = mgr.Start(ctx) }()
	if k8s, err = client.New(restCfg, client.Options{Scheme: mgr.GetScheme()}); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	return m.Run()
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, what, cond)
}
