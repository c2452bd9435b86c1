package procmem

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ThreadCPU is the CPU time one thread has used so far.
type ThreadCPU struct {
	PID, TID int
	Comm     string  // the thread's name (chromium names a worker's "DedicatedWorker …")
	Seconds  float64 // user + system time
}

// TreeThreads lists the threads of process root and its descendants with
// the CPU time each has used, so that two snapshots show what every thread
// was busy with in between (a page worker's busy time beside the wall time).
func TreeThreads(root int) []ThreadCPU {
	var out []ThreadCPU
	for _, pid := range tree(root) {
		tasks, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "task"))
		if err != nil {
			continue
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", t.Name(), "stat"))
			if err != nil {
				continue
			}
			s := string(stat)
			open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
			if open < 0 || end < open {
				continue
			}
			f := strings.Fields(s[end+1:])
			if len(f) < 13 {
				continue
			}
			// After the comm: state ppid pgrp session tty tpgid flags minflt
			// cminflt majflt cmajflt utime stime (clock ticks, 100 a second).
			ut, _ := strconv.ParseFloat(f[11], 64)
			st, _ := strconv.ParseFloat(f[12], 64)
			out = append(out, ThreadCPU{PID: pid, TID: tid, Comm: s[open+1 : end], Seconds: (ut + st) / 100})
		}
	}
	return out
}
