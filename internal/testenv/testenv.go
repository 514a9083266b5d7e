// Package testenv holds what several test packages need to reach the real
// components the repository's hack/ scripts build: the scripts' output paths
// (envtest's kube-apiserver and etcd, helm) and polling until a condition holds.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ScriptPath runs hack/<script> of the repository at repo and returns the last line
// of its stdout: the path it prints (its progress goes to stderr).
func ScriptPath(repo, script string, args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{filepath.Join(repo, "hack", script)}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/%s: %w", script, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// EnvtestAssets is KUBEBUILDER_ASSETS, or the folder hack/envtest.sh builds (cached).
func EnvtestAssets(repo string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	return ScriptPath(repo, "envtest.sh")
}

// Eventually polls cond every 100 ms until it holds, and fails t when within passes;
// cond returns whether it holds and what it saw, for the failure message.
func Eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s; last seen: %s", what, within, last)
}

// BuildLattice builds the lattice command of the repository at repo into t's
// temporary directory and returns the binary's path.
func BuildLattice(t *testing.T, repo string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "lattice")
	build := exec.Command("go", "build", "-o", bin, "./cmd/lattice")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
