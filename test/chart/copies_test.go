package chart_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// stripTemplateLines drops the lines that are a template action alone ("{{ … }}"),
// which is all hack/chart-sync.sh adds to a CRD.
func stripTemplateLines(b []byte) []byte {
	var out []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") {
			continue
		}
		out = append(out, line)
	}
	return []byte(strings.Join(out, ""))
}

// TestCopiesAreTheGeneratedFiles: the chart's CRD templates are config/crd/bases
// plus template lines only, and config/default's copies are identical, file for file.
func TestCopiesAreTheGeneratedFiles(t *testing.T) {
	bases, err := filepath.Glob(filepath.Join(repo, "config", "crd", "bases", "*.yaml"))
	if err != nil || len(bases) == 0 {
		t.Fatalf("no CRDs in config/crd/bases (%v)", err)
	}
	var names []string
	for _, src := range bases {
		name := filepath.Base(src)
		names = append(names, name)
		want := readFile(t, src)
		if got := stripTemplateLines(readFile(t, filepath.Join(chartDir, "templates", "crds", name))); !bytes.Equal(got, want) {
			t.Errorf("charts/lattice/templates/crds/%s is not config/crd/bases/%s plus template lines (run make chart)", name, name)
		}
		if got := readFile(t, filepath.Join(repo, "config", "default", "crd", name)); !bytes.Equal(got, want) {
			t.Errorf("config/default/crd/%s differs from config/crd/bases/%s (run make chart)", name, name)
		}
	}
	for _, dir := range []string{filepath.Join(chartDir, "templates", "crds"), filepath.Join(repo, "config", "default", "crd")} {
		copies, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, c := range copies {
			if !slices.Contains(names, filepath.Base(c)) {
				t.Errorf("%s has no source in config/crd/bases (run make chart)", c)
			}
		}
	}
	if !bytes.Equal(readFile(t, filepath.Join(repo, "config", "default", "rbac", "role.yaml")),
		readFile(t, filepath.Join(repo, "config", "rbac", "role.yaml"))) {
		t.Error("config/default/rbac/role.yaml differs from config/rbac/role.yaml (run make chart)")
	}
}

// TestValuesTableIsUpToDate: the chart README's table of values is what
// hack/chart-readme.sh makes of values.yaml, which documents every value.
func TestValuesTableIsUpToDate(t *testing.T) {
	cmd := exec.Command("bash", filepath.Join(repo, "hack", "chart-readme.sh"), "--check")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("hack/chart-readme.sh --check: %v\n%s", err, out)
	}
}

// TestValuesTableRefusesUndocumentedValues: a value without a "# --" comment stops
// the table's generation, so the table cannot silently miss one.
func TestValuesTableRefusesUndocumentedValues(t *testing.T) {
	dir := t.TempDir()
	values := append(readFile(t, filepath.Join(chartDir, "values.yaml")), "\nsneaky: true\n"...)
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), values, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(repo, "hack", "chart-readme.sh"), "--table")
	cmd.Env = append(os.Environ(), "CHART="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `sneaky has no "# --" comment`) {
		t.Errorf("an undocumented value: %v\n%s", err, out)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
