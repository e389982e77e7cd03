package vault

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/storage/chunk"
)

// Names of the files and directories on each disk (see storage/FORMAT.md).
const (
	labelFile    = "strongroom.disk"
	keyFile      = "keyfile"
	lockFile     = "lock"
	segmentsDir  = "segments"
	snapshotsDir = "snapshots"
	spoolDir     = "spool"
	shardExt     = ".shard"
	formatMajor  = 1
)

// label is the small JSON file that identifies a vault disk.
type label struct {
	Format  int    `json:"format"`
	VaultID string `json:"vault_id"`
	Index   int    `json:"disk_index"`
	K       int    `json:"k"`
	M       int    `json:"m"`
	Created int64  `json:"created"`
	// Chunking is the vault's content-defined chunking, the same on
	// every disk. Labels written before it was recorded lack it: such a
	// vault chunks with chunk.V1.
	Chunking *labelChunking `json:"chunking,omitempty"`
}

// labelChunking is chunk.Params as a label records them.
type labelChunking struct {
	Min int `json:"min"`
	Avg int `json:"avg"`
	Max int `json:"max"`
}

// chunking returns the chunking the label records, chunk.V1 when none.
func (l label) chunking() chunk.Params {
	if l.Chunking == nil {
		return chunk.V1
	}
	return chunk.Params{Min: l.Chunking.Min, Avg: l.Chunking.Avg, Max: l.Chunking.Max}
}

// disk is one disk directory of an open vault.
type disk struct {
	Path  string
	Index int
	label label
	lock  *os.File
}

func (d *disk) segmentPath(id uint64) string {
	return filepath.Join(d.Path, segmentsDir, fmt.Sprintf("%04x", id>>12), fmt.Sprintf("%016x%s", id, shardExt))
}

func (d *disk) snapshotDir() string { return filepath.Join(d.Path, snapshotsDir) }

// spool is where files are written before they are renamed into the
// append-only segment and snapshot directories (see storage/FORMAT.md).
func (d *disk) spool() string { return filepath.Join(d.Path, spoolDir) }

// prepareSpool creates the disk's spool directory, or empties it of what
// an interrupted write left, keeping the warden's hand-over request.
func prepareSpool(dir string) error {
	sp := filepath.Join(dir, spoolDir)
	if err := os.Mkdir(sp, 0o750); err != nil && !os.IsExist(err) {
		return err
	}
	if st, err := os.Lstat(sp); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory", sp)
	}
	ents, err := os.ReadDir(sp)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Name() != handoverFile {
			os.RemoveAll(filepath.Join(sp, e.Name()))
		}
	}
	return nil
}

// DiskLabel is what a vault disk's label says of the vault it belongs to:
// setup reads it to offer disks moved from another box with their vault.
type DiskLabel struct {
	VaultID string
	Index   int // the disk's place among the vault's K+M disks
	K, M    int
}

// ReadDiskLabel reads the label of the vault disk at dir.
func ReadDiskLabel(dir string) (DiskLabel, error) {
	l, err := readLabel(dir)
	if err != nil {
		return DiskLabel{}, err
	}
	return DiskLabel{VaultID: l.VaultID, Index: l.Index, K: l.K, M: l.M}, nil
}

func readLabel(dir string) (label, error) {
	var l label
	b, err := os.ReadFile(filepath.Join(dir, labelFile))
	if err != nil {
		return l, err
	}
	if err := json.Unmarshal(b, &l); err != nil {
		return l, fmt.Errorf("%s: %w", filepath.Join(dir, labelFile), err)
	}
	if l.Format != formatMajor {
		return l, fmt.Errorf("%s: format %d is not supported by this build (it reads %d)", filepath.Join(dir, labelFile), l.Format, formatMajor)
	}
	return l, nil
}

// checkUsable returns a *DiskError when dir cannot take a vault's writes.
func checkUsable(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		return &DiskError{Path: dir, Kind: ErrDiskMissing, Err: err,
			Fix: "check that the disk is mounted at " + dir + " (or give the right --disk), or replace it with 'strongroom vault replace-disk'"}
	}
	if !st.IsDir() {
		return &DiskError{Path: dir, Kind: ErrDiskMissing, Err: errors.New("not a directory"), Fix: "give a directory (the disk's mount point) as --disk"}
	}
	// A vault disk is probed in its spool: its own directory is sealed
	// append-only, where the probe could be created but never removed.
	probeDir := dir
	if st, err := os.Lstat(filepath.Join(dir, spoolDir)); err == nil && st.IsDir() {
		probeDir = filepath.Join(dir, spoolDir)
	}
	probe := filepath.Join(probeDir, ".strongroom-probe")
	f, err := os.OpenFile(probe, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err == nil {
		_, err = f.Write([]byte("probe"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		os.Remove(probe)
	}
	if err != nil {
		switch {
		case errors.Is(err, syscall.ENOSPC):
			return &DiskError{Path: dir, Kind: ErrDiskFull, Err: err, Fix: "free space on " + dir + " or replace the disk with a larger one"}
		case errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return &DiskError{Path: dir, Kind: ErrDiskReadOnly, Err: err,
				Fix: "remount " + dir + " read-write (a disk that turned read-only may be failing: check dmesg and SMART)"}
		}
		return &DiskError{Path: dir, Kind: ErrDiskReadOnly, Err: err, Fix: "check the disk at " + dir}
	}
	return nil
}

// freeBytes reports the space available to unprivileged writers.
func freeBytes(dir string) (free, total uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, err
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

// lockDisk takes the vault lock on one disk without waiting. The file is
// readable by all: flock needs only a read-only descriptor, so whichever
// of the agent and the warden made it, the other can still take the lock.
func lockDisk(dir string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		if os.IsPermission(err) || errors.Is(err, syscall.EROFS) {
			f, err = os.Open(filepath.Join(dir, lockFile))
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
	}
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	if err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, &DiskError{Path: dir, Kind: ErrInUse, Err: err,
			Fix: "another strongroom process (usually the agent) has the vault open; stop it or wait for it to finish"}
	}
	return f, nil
}

// listSegments returns the segment IDs with a shard file on this disk, and
// removes temporary files left by an interrupted write when clean is true.
func (d *disk) listSegments(clean bool) ([]uint64, error) {
	root := filepath.Join(d.Path, segmentsDir)
	groups, err := os.ReadDir(root)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var ids []uint64
	for _, g := range groups {
		if !g.IsDir() {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(root, g.Name()))
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			name := e.Name()
			if strings.HasSuffix(name, ".tmp") {
				if clean {
					// Left by a build that wrote beside the shard; an
					// append-only directory keeps it, and nothing reads it.
					os.Remove(filepath.Join(root, g.Name(), name))
				}
				continue
			}
			if !strings.HasSuffix(name, shardExt) || !e.Type().IsRegular() {
				continue
			}
			id, err := strconv.ParseUint(strings.TrimSuffix(name, shardExt), 16, 64)
			if err == nil {
				ids = append(ids, id)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}
