//go:build !linux

package httpapi

import "syscall"

// reaper is a no-op outside Linux: a detached stream whose client went away is
// found by the next write (at the latest the next ping).
type reaper struct{}

var streamReaper reaper

func (reaper) watch(*detached) uint64 { return 0 }

func (reaper) forget(uint64, syscall.Conn) {}
