//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// raiseFileLimit makes sure this process may hold need open files: it raises the
// soft limit (and, if it may, the hard one) when it is lower. Go already lifts the
// soft limit to the hard one at start; beyond that only root, or ulimit -n in the
// shell before, helps.
func raiseFileLimit(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("read the open-file limit: %w", err)
	}
	if lim.Cur >= need {
		return nil
	}
	want := syscall.Rlimit{Cur: need, Max: max(lim.Max, need)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		return fmt.Errorf("need %d open files but the limit is %d (hard %d) and raising it failed: %w; run ulimit -n %d first",
			need, lim.Cur, lim.Max, err, need)
	}
	return nil
}
