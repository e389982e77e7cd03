package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/storage/immutable"
	"github.com/strongroom/strongroom/storage/keys"
)

// Custody is the vault's files as the warden handles them: it checks the
// disks, seals files and directories, reads manifests with the recovery
// key, and removes what the warden has decided is expired. It takes no
// vault lock and opens no index; nothing it decides rests on a file the
// agent can still change (see storage/FORMAT.md, "Trust boundary").
type Custody struct {
	v *Vault
}

// OpenCustody reads the disks' labels and unwraps the master key. Disks that
// are missing are reported by Missing; sealing goes on with the others.
func OpenCustody(disks []string, key keys.RecoveryKey) (*Custody, error) {
	for _, d := range disks {
		if st, err := os.Lstat(d); err == nil && st.Mode()&os.ModeSymlink != 0 {
			return nil, &DiskError{Path: d, Kind: ErrNotVault, Err: errors.New("the disk path is a symbolic link"),
				Fix: "name the disk's mount point itself; a disk directory replaced by a link is a sign of tampering"}
		}
	}
	v, err := assembleDisks(disks, key)
	if err != nil {
		return nil, err
	}
	return &Custody{v: v}, nil
}

// assembleDisks reads the labels of disks and unwraps the master key with
// key, for roles that take no vault lock and open no state.
func assembleDisks(disks []string, key keys.RecoveryKey) (*Vault, error) {
	opts := Options{Disks: disks, Key: key}
	opts.defaults()
	return assemble(opts)
}

// ID is the vault's identifier.
func (c *Custody) ID() string { return c.v.id }

// Missing lists the disks that are missing.
func (c *Custody) Missing() []string { return c.v.missing }

// DiskFiles is what one disk holds, as the warden saw it while sealing.
type DiskFiles struct {
	Path  string `json:"path"`
	Index int    `json:"index"`
	// Segments have a sealed shard file on this disk.
	Segments []uint64 `json:"-"`
	// Manifests and Retains are the snapshot IDs with a sealed manifest,
	// and the sealed retention extensions (ID -> latest retain-until).
	Manifests []string             `json:"-"`
	Retains   map[string]time.Time `json:"-"`
}

// SealReport counts what Seal did and lists what it found.
type SealReport struct {
	Sealed        int `json:"sealed"`
	AlreadySealed int `json:"already_sealed"`
	// Problems are signs of tampering or damage: a vault directory that is
	// missing, replaced or not sealable. The warden alerts on them and
	// expires nothing while any is present.
	Problems []string    `json:"problems,omitempty"`
	Disks    []DiskFiles `json:"-"`
}

// sealDirs are the directories of a disk that are made append-only: new
// entries may appear in them, none may go (see storage/FORMAT.md).
var sealDirs = []string{segmentsDir, snapshotsDir}

// Seal makes every complete vault file on the present disks immutable
// (shards, manifests, retention records, label, keyfile) and the disk
// directory, segments/, its groups and snapshots/ append-only. It runs
// while the agent writes: files appear under their final names only once
// complete and synced. Immutable files are sealed before they are listed,
// so what the report lists can no longer change.
func (c *Custody) Seal() (SealReport, error) {
	var rep SealReport
	for _, d := range c.v.present() {
		df, err := c.sealDisk(d, &rep)
		if err != nil {
			return rep, err
		}
		rep.Disks = append(rep.Disks, df)
	}
	return rep, nil
}

func (c *Custody) seal(p string, set func(string) error, isSet func(string) (bool, error), rep *SealReport) error {
	on, err := isSet(p)
	if err != nil {
		return fmt.Errorf("seal %s: %w", p, err)
	}
	if on {
		rep.AlreadySealed++
		return nil
	}
	if err := set(p); err != nil {
		return fmt.Errorf("seal %s: %w", p, err)
	}
	rep.Sealed++
	return nil
}

// sealFile seals a file with one name only. A file with another hard
// link is not sealed: removing the other name later would unseal this one
// (the flag belongs to the inode); it is reported as a problem instead.
func (c *Custody) sealFile(p string, rep *SealReport) (bool, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return false, fmt.Errorf("seal %s: %w", p, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false, nil
	}
	if st.Nlink != 1 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%s has %d hard links (a name added to trap the warden): not sealed or recorded", p, st.Nlink))
		return false, nil
	}
	return true, c.seal(p, immutable.Set, immutable.IsSet, rep)
}

func (c *Custody) sealDir(p string, rep *SealReport) error {
	return c.seal(p, immutable.SetAppendOnly, immutable.IsAppendOnly, rep)
}

// realDir reports whether p is a directory and not a link to one.
func realDir(p string) bool {
	st, err := os.Lstat(p)
	return err == nil && st.IsDir()
}

func (c *Custody) sealDisk(d *disk, rep *SealReport) (DiskFiles, error) {
	df := DiskFiles{Path: d.Path, Index: d.Index, Retains: map[string]time.Time{}}
	if !realDir(d.Path) {
		rep.Problems = append(rep.Problems, fmt.Sprintf("disk %s is no longer a directory", d.Path))
		return df, nil
	}
	l, err := readLabel(d.Path)
	if err != nil || l.VaultID != c.v.id || l.Index != d.Index {
		rep.Problems = append(rep.Problems, fmt.Sprintf("disk %s: its label changed or cannot be read (%v)", d.Path, err))
		return df, nil
	}
	for _, f := range []string{labelFile, keyFile} {
		if _, err := c.sealFile(filepath.Join(d.Path, f), rep); err != nil {
			return df, err
		}
	}
	if err := c.sealDir(d.Path, rep); err != nil {
		return df, err
	}
	real := map[string]bool{}
	for _, sub := range sealDirs {
		p := filepath.Join(d.Path, sub)
		if !realDir(p) {
			rep.Problems = append(rep.Problems, fmt.Sprintf("disk %s: %s/ is missing or not a directory (moved, removed or replaced)", d.Path, sub))
			continue
		}
		real[sub] = true
		if err := c.sealDir(p, rep); err != nil {
			return df, err
		}
	}
	segs := filepath.Join(d.Path, segmentsDir)
	var groups []os.DirEntry
	if real[segmentsDir] {
		groups, _ = os.ReadDir(segs)
	}
	for _, g := range groups {
		gp := filepath.Join(segs, g.Name())
		if !g.IsDir() || len(g.Name()) != 4 {
			continue
		}
		if err := c.sealDir(gp, rep); err != nil {
			return df, err
		}
		ents, err := os.ReadDir(gp)
		if err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("disk %s: cannot list %s: %v", d.Path, gp, err))
			continue
		}
		for _, e := range ents {
			id, ok := shardName(g.Name(), e)
			if !ok {
				continue
			}
			ok, err := c.sealFile(filepath.Join(gp, e.Name()), rep)
			if err != nil {
				return df, err
			}
			if ok {
				df.Segments = append(df.Segments, id)
			}
		}
	}
	snaps := filepath.Join(d.Path, snapshotsDir)
	var ents []os.DirEntry
	if real[snapshotsDir] {
		ents, _ = os.ReadDir(snaps)
	}
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasSuffix(name, ".tmp") {
			continue
		}
		id, until, kind := parseSnapshotFile(name)
		if kind == "" {
			continue
		}
		ok, err := c.sealFile(filepath.Join(snaps, name), rep)
		if err != nil {
			return df, err
		}
		if !ok {
			continue
		}
		switch kind {
		case "manifest":
			df.Manifests = append(df.Manifests, id)
		case "retain":
			if until.After(df.Retains[id]) {
				df.Retains[id] = until
			}
		}
	}
	sort.Slice(df.Segments, func(i, j int) bool { return df.Segments[i] < df.Segments[j] })
	sort.Strings(df.Manifests)
	return df, nil
}

// shardName returns the segment ID of a shard file in group directory g,
// and false for anything else (links, directories, misplaced names).
func shardName(g string, e os.DirEntry) (uint64, bool) {
	name := e.Name()
	if !e.Type().IsRegular() || !strings.HasSuffix(name, shardExt) {
		return 0, false
	}
	id, err := strconv.ParseUint(strings.TrimSuffix(name, shardExt), 16, 64)
	if err != nil || fmt.Sprintf("%04x", id>>12) != g {
		return 0, false
	}
	return id, true
}

// parseSnapshotFile tells a manifest ("manifest") from a retention
// extension ("retain", with its time) by name; kind is empty for others.
// Names that are not snapshot IDs of this format, and retention times
// past year 9999, are junk and ignored.
func parseSnapshotFile(name string) (id string, until time.Time, kind string) {
	if strings.HasSuffix(name, snapExt) {
		if id = strings.TrimSuffix(name, snapExt); ValidSnapshotID(id) {
			return id, time.Time{}, "manifest"
		}
		return "", time.Time{}, ""
	}
	if i := strings.Index(name, retainInfix); i > 0 && ValidSnapshotID(name[:i]) {
		sec, err := strconv.ParseInt(name[i+len(retainInfix):], 10, 64)
		if err == nil && sec > 0 && sec <= maxRetainUnix {
			return name[:i], time.Unix(sec, 0).UTC(), "retain"
		}
	}
	return "", time.Time{}, ""
}

// maxRetainUnix is 9999-12-31T23:59:59Z, the latest time JSON and RFC 3339
// can carry.
const maxRetainUnix = 253402300799

// snapshotIDPattern is the form of every snapshot ID the writer makes.
var snapshotIDPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9a-f]{8}$`)

// ValidSnapshotID reports whether id has the form the writer gives
// snapshot IDs ("20261126T021500.123456Z-9f3c01aa").
func ValidSnapshotID(id string) bool { return snapshotIDPattern.MatchString(id) }

// ManifestCopy is one disk's copy of a snapshot manifest, decoded.
type ManifestCopy struct {
	Disk     string
	Snapshot *Snapshot // nil when Err is set
	Err      error
}

// Manifests reads and decodes the copies of a snapshot's manifest on the
// given disks: those where a seal round found it sealed.
func (c *Custody) Manifests(id string, disks map[string]bool) []ManifestCopy {
	var out []ManifestCopy
	for _, d := range c.v.present() {
		if !disks[d.Path] {
			continue
		}
		p := filepath.Join(d.snapshotDir(), id+snapExt)
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if !st.Mode().IsRegular() || st.Size() > maxManifestSize {
			out = append(out, ManifestCopy{Disk: d.Path, Err: fmt.Errorf("%s is not a manifest file", p)})
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			out = append(out, ManifestCopy{Disk: d.Path, Err: err})
			continue
		}
		s, err := c.v.decodeManifest(id, b)
		out = append(out, ManifestCopy{Disk: d.Path, Snapshot: s, Err: err})
	}
	return out
}

// maxManifestSize bounds what the warden reads as one manifest; a real one
// names a few thousand segments at most.
const maxManifestSize = 64 << 20

// RemoveSnapshot removes every file of a snapshot (manifest and retention
// extensions) from every present disk. Only the warden calls it, for a
// snapshot its own record says has expired.
func (c *Custody) RemoveSnapshot(id string) error {
	for _, d := range c.v.present() {
		dir := d.snapshotDir()
		ents, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		var victims []string
		for _, e := range ents {
			if fid, _, kind := parseSnapshotFile(e.Name()); kind != "" && fid == id && e.Type().IsRegular() {
				victims = append(victims, filepath.Join(dir, e.Name()))
			}
		}
		if err := removeFromSealedDir(dir, victims); err != nil {
			return err
		}
	}
	return nil
}

// RemoveSegment removes a segment's shard files from every present disk.
// Only the warden calls it, for a segment no live snapshot needs.
func (c *Custody) RemoveSegment(id uint64) error {
	for _, d := range c.v.present() {
		p := d.segmentPath(id)
		if !realDir(filepath.Dir(p)) {
			if _, err := os.Lstat(filepath.Dir(p)); os.IsNotExist(err) {
				continue
			}
			return fmt.Errorf("%s is not a directory (replaced by a link?): segment %d is not removed", filepath.Dir(p), id)
		}
		if err := removeFromSealedDir(filepath.Dir(p), []string{p}); err != nil {
			return err
		}
	}
	return nil
}

// removeFromSealedDir opens an append-only directory, unseals and removes
// the given files, and seals the directory again.
func removeFromSealedDir(dir string, files []string) error {
	var present []string
	for _, f := range files {
		if st, err := os.Lstat(f); err == nil && st.Mode().IsRegular() {
			present = append(present, f)
		}
	}
	if len(present) == 0 {
		return nil
	}
	sealed, _ := immutable.IsAppendOnly(dir)
	if sealed {
		if err := immutable.ClearAppendOnly(dir); err != nil {
			return fmt.Errorf("open sealed directory %s: %w", dir, err)
		}
		defer immutable.SetAppendOnly(dir)
	}
	for _, f := range present {
		if err := removeSealed(f); err != nil {
			return err
		}
	}
	return nil
}

// removeSealed removes a sealed file. It refuses a file with more than one
// name: unsealing it would unseal the other name too.
func removeSealed(p string) error {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 {
		return fmt.Errorf("%s is not a regular file with one name: not removed", p)
	}
	if set, err := immutable.IsSet(p); err == nil && set {
		if err := immutable.Clear(p); err != nil {
			return fmt.Errorf("unseal %s: %w", p, err)
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// TakeVault asks the agent to hand the vault over and waits, at most wait,
// for the lock on every disk. The returned function gives the vault back.
func (c *Custody) TakeVault(wait time.Duration) (func(), error) {
	paths := c.v.Disks()
	if err := RequestHandover(paths); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	for {
		err := c.v.lockDisks()
		if err == nil {
			return func() {
				c.v.unlockDisks()
				EndHandover(paths)
			}, nil
		}
		if !errors.Is(err, ErrInUse) || time.Now().After(deadline) {
			EndHandover(paths)
			return nil, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}
