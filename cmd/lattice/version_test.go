package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestCurrentBuildFallsBackToBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-03-04T05:06:07Z"}}}
	got := currentBuild(bi)
	want := buildInfo{Version: "v0.2.0", Commit: "0123abcd", Date: "2026-03-04T05:06:07Z",
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if got != want {
		t.Errorf("currentBuild = %+v, want %+v", got, want)
	}
	if got := currentBuild(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}); got.Version != "devel" || got.Commit != unknown || got.Date != unknown {
		t.Errorf("a checkout build without VCS stamps: %+v, want devel, unknown, unknown", got)
	}
	if got := currentBuild(nil); got.Version != unknown {
		t.Errorf("no build info: version %q, want %q", got.Version, unknown)
	}
}

func TestCurrentBuildPrefersLdflags(t *testing.T) {
	defer func(v, c, d string) { version, commit, date = v, c, d }(version, commit, date)
	version, commit, date = "v1.2.3", "feedbeef", "2026-01-02T03:04:05Z"
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v0.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-03-04T05:06:07Z"}}}
	got := currentBuild(bi).String()
	want := "lattice v1.2.3 (commit feedbeef, built 2026-01-02T03:04:05Z, " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got != want {
		t.Errorf("version line:\n got %s\nwant %s", got, want)
	}
}

func TestVersionRefusesArguments(t *testing.T) {
	if err := runVersion([]string{"--short"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "unexpected arguments") {
		t.Errorf("runVersion(--short) = %v, want an unexpected-arguments error", err)
	}
}

// TestReleaseLdflagsReachTheBinary builds lattice with hack/release.sh's -ldflags, as
// make release does, and runs `lattice version`; the Dockerfile must set the same
// variables.
func TestReleaseLdflagsReachTheBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	script := filepath.Join("..", "..", "hack", "release.sh")
	cmd := exec.Command("bash", script, "ldflags")
	cmd.Env = append(os.Environ(), "VERSION=v9.8.7", "COMMIT=c0ffee", "DATE=2026-02-03T04:05:06Z")
	flags, err := cmd.Output()
	if err != nil {
		t.Fatalf("hack/release.sh ldflags: %v", err)
	}
	checkDockerfileSets(t, string(flags))
	bin := filepath.Join(t.TempDir(), "lattice")
	if out, err := exec.Command("go", "build", "-ldflags", strings.TrimSpace(string(flags)), "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("lattice version: %v\n%s", err, out)
	}
	if want := "lattice v9.8.7 (commit c0ffee, built 2026-02-03T04:05:06Z, "; !strings.HasPrefix(string(out), want) {
		t.Errorf("lattice version printed %q, want it to start with %q", out, want)
	}
}

// checkDockerfileSets fails unless the Dockerfile's build sets every variable that
// ldflags sets with -X.
func checkDockerfileSets(t *testing.T, ldflags string) {
	t.Helper()
	dockerfile, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(ldflags)
	for i, f := range fields {
		if f != "-X" || i+1 == len(fields) {
			continue
		}
		name, _, _ := strings.Cut(fields[i+1], "=")
		if !strings.Contains(string(dockerfile), "-X "+name+"=") {
			t.Errorf("the Dockerfile does not set %s (-X %s=…) as hack/release.sh does", name, name)
		}
	}
}
