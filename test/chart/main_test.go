package chart_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/lattice-sync/lattice/internal/testenv"
)

// repo is the repository's root; chartDir the chart under test.
var (
	repo     string
	chartDir string
)

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repo = filepath.Join(filepath.Dir(file), "..", "..")
	chartDir = filepath.Join(repo, "charts", "lattice")
	code := m.Run()
	stopAPIServer()
	os.Exit(code)
}

// releaseName and releaseNamespace are those of the README's helm install.
const (
	releaseName      = "lattice"
	releaseNamespace = "lattice-system"
)

var helmOnce struct {
	sync.Once
	path string
	err  error
}

// helmBinary is the helm that hack/helm.sh builds (cached); failing to build it
// fails the test.
func helmBinary(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() { helmOnce.path, helmOnce.err = scriptPath("helm.sh") })
	if helmOnce.err != nil {
		t.Fatal(helmOnce.err)
	}
	return helmOnce.path
}

// scriptPath runs bash hack/<script> args and returns the last line of its stdout.
func scriptPath(script string, args ...string) (string, error) {
	return testenv.ScriptPath(repo, script, args...)
}

// helm runs helm with its homes inside .cache/helm (as hack/helm.sh sets them) and
// returns its stdout, or an error carrying its stderr.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBinary(t), args...)
	homes := filepath.Join(repo, ".cache", "helm")
	cmd.Env = append(os.Environ(), "HELM_CONFIG_HOME="+filepath.Join(homes, "config"),
		"HELM_CACHE_HOME="+filepath.Join(homes, "cache"), "HELM_DATA_HOME="+filepath.Join(homes, "data"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

// valuesFile writes values as a YAML file for helm's -f.
func valuesFile(t *testing.T, values map[string]any) string {
	t.Helper()
	b, err := yaml.Marshal(values)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// templateArgs are helm template's arguments for the chart with values.
func templateArgs(t *testing.T, release, namespace string, values map[string]any) []string {
	return []string{"template", release, chartDir, "--namespace", namespace, "-f", valuesFile(t, values)}
}

// render is what helm template renders for release in namespace with values.
func render(t *testing.T, release, namespace string, values map[string]any) []*unstructured.Unstructured {
	t.Helper()
	out, err := helm(t, templateArgs(t, release, namespace, values)...)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decodeAll([]byte(out))
	if err != nil {
		t.Fatalf("helm template output: %v", err)
	}
	return objs
}

// decodeAll splits a multi-document YAML stream into objects, skipping empty ones.
func decodeAll(stream []byte) ([]*unstructured.Unstructured, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(stream)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read a document: %w", err)
		}
		var m map[string]any
		if err := yaml.Unmarshal(doc, &m); err != nil {
			return nil, fmt.Errorf("decode a document: %w\n%s", err, doc)
		}
		if len(m) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
}

// ref names an object as kind/namespace/name.
func ref(u *unstructured.Unstructured) string {
	return u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
}

// find returns the object of kind, namespace and name, or fails.
func find(t *testing.T, objs []*unstructured.Unstructured, kind, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() == kind && u.GetNamespace() == namespace && u.GetName() == name {
			return u
		}
	}
	t.Fatalf("no %s %s/%s among %v", kind, namespace, name, refs(objs))
	return nil
}

// refs lists the objects' refs, sorted.
func refs(objs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(objs))
	for _, u := range objs {
		out = append(out, ref(u))
	}
	return sortedSet(out)
}
