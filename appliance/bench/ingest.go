package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/vault"
)

// IngestResult is what Ingest measured; the command line prints it as one
// JSON line.
type IngestResult struct {
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

// IngestOptions are the settings of the ingest benchmark.
type IngestOptions struct {
	Src string // the tree to store
	// ParentPass adds the second, unchanged pass.
	ParentPass bool
	// Workers is the number of writer goroutines; 0 is GOMAXPROCS.
	Workers int
	// CPUProfile, when set, is where a Go CPU profile of the run goes.
	CPUProfile string
	// MemProfile, when set, is where a Go heap profile taken at the end
	// of the first pass goes.
	MemProfile string
}

// Ingest stores every regular file under o.Src as an item of one
// snapshot, and with o.ParentPass a second snapshot of the unchanged tree
// the way an incremental backup makes it (items whose path, size and mtime
// match are reused unread). On empty disks it first creates a vault
// (EnsureVault).
func Ingest(c config.Vault, o IngestOptions) (IngestResult, error) {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	src, workers := o.Src, o.Workers
	res := IngestResult{Workers: workers}
	stop, err := ProfileCPU(o.CPUProfile)
	if err != nil {
		return res, err
	}
	defer stop()
	if fi, err := os.Stat(src); err != nil {
		return res, outcome.Usage{Err: fmt.Errorf("source %s: %w", src, err)}
	} else if !fi.IsDir() {
		return res, outcome.Usage{Err: fmt.Errorf("source %s is not a directory", src)}
	}
	c, err = EnsureVault(c)
	if err != nil {
		return res, err
	}
	res.KeyFile = c.KeyFile
	k, err := vaultctl.ReadKey(c)
	if err != nil {
		return res, err
	}
	v, err := vault.Open(vault.Options{Disks: c.Disks, Key: k, StateDir: c.StateDir, WardenDir: c.WardenDir})
	if err != nil {
		return res, err
	}
	defer v.Close()

	start := time.Now()
	s1, _, err := ingestPass(v, src, "bench "+src, nil, workers)
	if err != nil {
		return res, err
	}
	res.FirstSeconds = time.Since(start).Seconds()
	if err := WriteHeapProfile(o.MemProfile); err != nil {
		return res, err
	}
	res.Bytes, res.Items = s1.Bytes, s1.Items
	res.FirstMBps = mbps(s1.Bytes, res.FirstSeconds)
	res.Snapshots = append(res.Snapshots, s1.ID)
	if o.ParentPass {
		if err := secondPass(v, src, s1, workers, &res); err != nil {
			return res, err
		}
	}
	res.PeakRSSBytes = PeakRSS()
	return res, nil
}

// secondPass stores the unchanged tree again with first as the parent
// and adds its figures to res.
func secondPass(v *vault.Vault, src string, first vault.Snapshot, workers int, res *IngestResult) error {
	start := time.Now()
	prev := map[string]vault.Item{}
	if err := v.EachItem(first, func(it vault.Item) error { prev[it.Path] = it; return nil }); err != nil {
		return err
	}
	s2, reused, err := ingestPass(v, src, "bench "+src+" (unchanged)", prev, workers)
	if err != nil {
		return err
	}
	res.SecondSeconds = time.Since(start).Seconds()
	res.SecondMBps = mbps(s2.Bytes, res.SecondSeconds)
	res.SecondReused = reused
	res.Snapshots = append(res.Snapshots, s2.ID)
	return nil
}

// disksEmpty reports whether none of the disks holds anything yet; it
// creates the ones that do not exist.
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

// EnsureVault creates a vault on the configuration's disks when they are
// all empty, writing its recovery key to the configured key file or, when
// none is named, to a new temporary file it then names. It returns the
// configuration to open the vault with.
func EnsureVault(c config.Vault) (config.Vault, error) {
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

// pass is one snapshot being written by several workers; the first error
// stops them all.
type pass struct {
	w      *vault.Writer
	prev   map[string]vault.Item
	stop   chan struct{}
	mu     sync.Mutex
	err    error
	reused int64
}

func (p *pass) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
		close(p.stop)
	}
}

// store adds one file: reused from prev when its size and mtime match,
// otherwise read and stored.
func (p *pass) store(sf srcFile) error {
	it := itemOf(sf)
	if old, ok := p.prev[sf.rel]; ok && old.Size == it.Size && old.ModTime == it.ModTime {
		old.Mode = it.Mode
		if err := p.w.Add(old); err != nil {
			return err
		}
		p.mu.Lock()
		p.reused++
		p.mu.Unlock()
		return nil
	}
	fh, err := os.Open(sf.abs)
	if err != nil {
		return fmt.Errorf("read source: %w", err)
	}
	defer fh.Close()
	_, err = p.w.Put(it, fh)
	return err
}

// ingestPass stores the tree under src as one snapshot. Files whose item
// in prev has the same size and mtime are added without being read.
func ingestPass(v *vault.Vault, src, name string, prev map[string]vault.Item, workers int) (vault.Snapshot, int64, error) {
	w, err := v.NewWriter(name, map[string]string{"source": src})
	if err != nil {
		return vault.Snapshot{}, 0, err
	}
	p := &pass{w: w, prev: prev, stop: make(chan struct{})}
	files := make(chan srcFile, 256)
	var walkErr error
	walked := make(chan struct{})
	go func() { walkErr = walkFiles(src, files, p.stop); close(walked) }()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sf := range files {
				if err := p.store(sf); err != nil {
					p.fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for range files { // after a failure, let the walk end
	}
	<-walked
	if p.err == nil && walkErr != nil {
		p.err = fmt.Errorf("walk %s: %w", src, walkErr)
	}
	if p.err != nil {
		w.Abort()
		return vault.Snapshot{}, 0, p.err
	}
	s, err := w.Commit(time.Time{})
	return s, p.reused, err
}

// ScrubResult is what Scrub measured; the command line prints it as one
// JSON line.
type ScrubResult struct {
	BytesRead    int64   `json:"bytes_read"`
	Seconds      float64 `json:"seconds"`
	MBps         float64 `json:"mbps"`
	Healthy      bool    `json:"healthy"`
	Repaired     int     `json:"repaired"`
	PeakRSSBytes int64   `json:"peak_rss_bytes"`
}

// Scrub times one scrub of v (with repair, rebuilding what it finds
// damaged).
func Scrub(v *vault.Vault, repair bool) (ScrubResult, error) {
	start := time.Now()
	rep, err := v.Scrub(repair)
	if err != nil {
		return ScrubResult{}, err
	}
	sec := time.Since(start).Seconds()
	return ScrubResult{BytesRead: rep.BytesRead, Seconds: sec, MBps: mbps(rep.BytesRead, sec),
		Healthy: rep.Healthy, Repaired: rep.Repaired, PeakRSSBytes: PeakRSS()}, nil
}
