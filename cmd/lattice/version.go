package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Build information. Release builds set them (hack/release.sh ldflags):
//
//	-ldflags "-X main.version=v0.1.0 -X main.commit=<sha> -X main.date=<RFC 3339>"
//
// Left empty, they fall back to what the Go toolchain recorded in the binary.
var (
	version = ""
	commit  = ""
	date    = ""
)

// unknown stands for a build detail nobody recorded.
const unknown = "unknown"

// buildInfo is what `lattice version` prints.
type buildInfo struct {
	Version, Commit, Date, GoVersion, Platform string
}

// runVersion prints the version, commit and build date of this binary.
func runVersion(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("version: unexpected arguments: %v", args)
	}
	bi, _ := debug.ReadBuildInfo()
	_, err := fmt.Fprintln(stdout, currentBuild(bi).String())
	return err
}

// currentBuild is the ldflags' values, else bi's (module version, VCS revision and
// time), else unknown.
func currentBuild(bi *debug.BuildInfo) buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		if b.Version == "" {
			b.Version = moduleVersion(bi.Main.Version)
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && b.Commit == "":
				b.Commit = s.Value
			case s.Key == "vcs.time" && b.Date == "":
				b.Date = s.Value
			}
		}
	}
	for _, f := range []*string{&b.Version, &b.Commit, &b.Date} {
		if *f == "" {
			*f = unknown
		}
	}
	return b
}

// moduleVersion is the main module's version as the toolchain recorded it: a tag for
// `go install …@v0.1.0`, "(devel)" for a build from a checkout, shown as "devel".
func moduleVersion(v string) string {
	if v == "(devel)" {
		return "devel"
	}
	return v
}

// String is the one line `lattice version` prints.
func (b buildInfo) String() string {
	return fmt.Sprintf("lattice %s (commit %s, built %s, %s %s)", b.Version, b.Commit, b.Date, b.GoVersion, b.Platform)
}
