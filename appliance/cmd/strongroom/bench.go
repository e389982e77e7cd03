package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/strongroom/strongroom/appliance/config"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/storage/vault"
)

func init() { register(newBenchCmd) }

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the vault on real data (ingest, scrub)",
		Args:  usageArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBenchIngestCmd(), newBenchScrubCmd())
	flagErrorsAreUsage(cmd)
	return cmd
}

// ingestResult is the one JSON line bench ingest prints.
type ingestResult struct {
	Bytes         int64    `json:"bytes"`
	Items         int64    `json:"items"`
	FirstSeconds  float64  `json:"first_seconds"`
	FirstMBps     float64  `json:"first_mbps"`
	SecondSeconds float64  `json:"second_seconds,omitempty"`
	SecondMBps    float64  `json:"second_mbps,omitempty"`
	SecondReused  int64    `json:"second_reused,omitempty"`
	PeakRSSBytes  int64    `json:"peak_rss_bytes"`
	Workers       int      `json:"workers"`
	Snapshots     []string `json:"snapshots"`
	KeyFile       string   `json:"key_file"`
}

func newBenchIngestCmd() *cobra.Command {
	var f vaultFlags
	var parentPass bool
	var workers int
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "ingest --disk DIR ... SRC [--parent-pass] [--key-file F]",
		Short: "Store every file under SRC as an item of one snapshot, twice, and print the speed",
		Long: `Stores every regular file under SRC as an item (path relative to SRC, size,
modification time, mode) of one snapshot, with one writer goroutine per CPU.
Then (--parent-pass, on by default) it makes a second snapshot of the unchanged
tree the way an incremental backup does: items whose path, size and mtime match
the first snapshot are reused without reading them; the rest are stored.

If the disks are empty a new vault is created on them and its recovery key is
written to --key-file (or to a new temporary file); otherwise the existing
vault is opened with that key. Prints one JSON line: bytes, items, seconds and
MB/s of each pass, peak RSS, the snapshot IDs and the key file.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workers <= 0 {
				workers = runtime.GOMAXPROCS(0)
			}
			if cpuProfile != "" {
				pf, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer pf.Close()
				if err := pprof.StartCPUProfile(pf); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			res, err := benchIngest(&f, args[0], parentPass, workers)
			if err != nil {
				return err
			}
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&parentPass, "parent-pass", true, "run the second, unchanged pass that reuses the first snapshot's items")
	cmd.Flags().IntVar(&workers, "workers", 0, "writer goroutines (default: GOMAXPROCS)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file")
	return cmd
}

// disksEmpty reports whether none of the disks holds anything yet.
func disksEmpty(disks []string) (bool, error) {
	for _, d := range disks {
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			if err := os.MkdirAll(d, 0o750); err != nil {
				return false, err
			}
			continue
		}
		if err != nil {
			return false, err
		}
		if len(ents) > 0 {
			return false, nil
		}
	}
	return true, nil
}

// ensureBenchVault creates a vault on empty disks (writing the key to the
// configured key file or a new temporary one) and returns the configuration
// to open it with.
func ensureBenchVault(f *vaultFlags) (config.Vault, error) {
	c, err := f.resolve()
	if err != nil {
		return c, err
	}
	empty, err := disksEmpty(c.Disks)
	if err != nil || !empty {
		return c, err
	}
	if c.KeyFile == "" {
		tf, err := os.CreateTemp("", "strongroom-bench-*.key")
		if err != nil {
			return c, err
		}
		tf.Close()
		os.Remove(tf.Name())
		c.KeyFile = tf.Name()
	}
	res, err := vault.Init(c.Disks)
	if err != nil {
		return c, err
	}
	if err := os.WriteFile(c.KeyFile, []byte(res.RecoveryKey.String()+"\n"), 0o600); err != nil {
		return c, fmt.Errorf("write recovery key of the new bench vault: %w", err)
	}
	return c, nil
}

// srcFile is one regular file found under the source directory.
type srcFile struct {
	rel  string // slash-separated, relative to the source
	abs  string
	info fs.FileInfo
}

// walkFiles sends every regular file under src, in lexical order, to out
// and closes it.
func walkFiles(src string, out chan<- srcFile, stop <-chan struct{}) error {
	defer close(out)
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		select {
		case out <- srcFile{rel: filepath.ToSlash(rel), abs: p, info: info}:
			return nil
		case <-stop:
			return errors.New("stopped")
		}
	})
}

func itemOf(sf srcFile) vault.Item {
	return vault.Item{Path: sf.rel, Size: sf.info.Size(), ModTime: sf.info.ModTime().UnixNano(), Mode: uint32(sf.info.Mode().Perm())}
}

// ingestPass stores the tree under src as one snapshot. Files whose item
// in prev has the same size and mtime are added without being read.
func ingestPass(v *vault.Vault, src, name string, prev map[string]vault.Item, workers int) (vault.Snapshot, int64, error) {
	w, err := v.NewWriter(name, map[string]string{"source": src})
	if err != nil {
		return vault.Snapshot{}, 0, err
	}
	files := make(chan srcFile, 256)
	stop := make(chan struct{})
	var walkErr error
	walked := make(chan struct{})
	go func() { walkErr = walkFiles(src, files, stop); close(walked) }()

	var mu sync.Mutex
	var firstErr error
	var reused int64
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
			close(stop)
		}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sf := range files {
				it := itemOf(sf)
				if p, ok := prev[sf.rel]; ok && p.Size == it.Size && p.ModTime == it.ModTime {
					p.Mode = it.Mode
					if err := w.Add(p); err != nil {
						fail(err)
						return
					}
					mu.Lock()
					reused++
					mu.Unlock()
					continue
				}
				fh, err := os.Open(sf.abs)
				if err != nil {
					fail(fmt.Errorf("read source: %w", err))
					return
				}
				_, err = w.Put(it, fh)
				fh.Close()
				if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		for range files {
		}
	}
	<-walked
	if firstErr == nil && walkErr != nil {
		firstErr = fmt.Errorf("walk %s: %w", src, walkErr)
	}
	if firstErr != nil {
		w.Abort()
		return vault.Snapshot{}, 0, firstErr
	}
	s, err := w.Commit(time.Time{})
	return s, reused, err
}

func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // kilobytes on Linux
}

func benchIngest(f *vaultFlags, src string, parentPass bool, workers int) (ingestResult, error) {
	var res ingestResult
	if fi, err := os.Stat(src); err != nil {
		return res, usageError{fmt.Errorf("source %s: %w", src, err)}
	} else if !fi.IsDir() {
		return res, usageError{fmt.Errorf("source %s is not a directory", src)}
	}
	c, err := ensureBenchVault(f)
	if err != nil {
		return res, err
	}
	res.KeyFile = c.KeyFile
	k, err := readKey(c)
	if err != nil {
		return res, err
	}
	v, err := vault.Open(vault.Options{Disks: c.Disks, Key: k, StateDir: c.StateDir, WardenDir: c.WardenDir})
	if err != nil {
		return res, err
	}
	defer v.Close()
	res.Workers = workers

	start := time.Now()
	s1, _, err := ingestPass(v, src, "bench "+src, nil, res.Workers)
	if err != nil {
		return res, err
	}
	res.FirstSeconds = time.Since(start).Seconds()
	res.Bytes, res.Items = s1.Bytes, s1.Items
	res.FirstMBps = float64(s1.Bytes) / 1e6 / res.FirstSeconds
	res.Snapshots = append(res.Snapshots, s1.ID)

	if parentPass {
		start = time.Now()
		prev := map[string]vault.Item{}
		if err := v.EachItem(s1, func(it vault.Item) error { prev[it.Path] = it; return nil }); err != nil {
			return res, err
		}
		s2, reused, err := ingestPass(v, src, "bench "+src+" (unchanged)", prev, res.Workers)
		if err != nil {
			return res, err
		}
		res.SecondSeconds = time.Since(start).Seconds()
		res.SecondMBps = float64(s2.Bytes) / 1e6 / res.SecondSeconds
		res.SecondReused = reused
		res.Snapshots = append(res.Snapshots, s2.ID)
	}
	res.PeakRSSBytes = peakRSS()
	return res, nil
}

// scrubResult is the one JSON line bench scrub prints.
type scrubResult struct {
	BytesRead    int64   `json:"bytes_read"`
	Seconds      float64 `json:"seconds"`
	MBps         float64 `json:"mbps"`
	Healthy      bool    `json:"healthy"`
	Repaired     int     `json:"repaired"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
}

func newBenchScrubCmd() *cobra.Command {
	var f vaultFlags
	var repair bool
	cmd := &cobra.Command{
		Use:   "scrub --disk DIR ... [--repair]",
		Short: "Scrub the vault and print one JSON line with bytes read, seconds and MB/s",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withVault(&f, nil, func(v *vault.Vault) error {
				start := time.Now()
				rep, err := v.Scrub(repair)
				if err != nil {
					return err
				}
				sec := time.Since(start).Seconds()
				r := scrubResult{BytesRead: rep.BytesRead, Seconds: sec, MBps: float64(rep.BytesRead) / 1e6 / sec,
					Healthy: rep.Healthy, Repaired: rep.Repaired, PeakRSSBytes: peakRSS()}
				b, err := json.Marshal(r)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&repair, "repair", false, "also rebuild missing or corrupt shards")
	return cmd
}
