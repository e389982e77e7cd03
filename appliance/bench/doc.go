// Package bench measures the appliance on real work: Ingest and Scrub time
// the vault on a directory tree (scripts/bench.sh compares them with
// restic and borg), Tenant times backups of a simulated tenant through the
// agent against what the throttling limits allow (BENCHMARKS.md). Each
// returns its figures as a struct the command line prints as one JSON
// line.
package bench

import (
	"os"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"
)

// ProfileCPU starts a Go CPU profile written to path; stop ends it and
// closes the file. An empty path profiles nothing.
func ProfileCPU(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// WriteHeapProfile writes a Go heap profile (in use and allocated since
// the start) to path; an empty path writes nothing.
func WriteHeapProfile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC() // the profile shows the heap as of the last collection
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// PeakRSS is the largest resident set size of this process so far.
func PeakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

// processCPU is the user plus system CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mbps is bytes per second in decimal megabytes, as the benchmark tables
// compare tools.
func mbps(bytes int64, seconds float64) float64 { return float64(bytes) / 1e6 / seconds }
