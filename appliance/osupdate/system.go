package osupdate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/strongroom/strongroom/storage/durable"
)

// System is the running appliance's boot disk. The zero values of its
// fields are the appliance's paths (see NewSystem); tests point them at
// files and directories.
type System struct {
	// PartDir holds the slot partitions by label (sr-root-a, sr-verity-a,
	// sr-root-b, sr-verity-b).
	PartDir string
	// ESP is where the EFI system partition is mounted.
	ESP string
	// Cmdline is the kernel command line file (strongroom.slot=, roothash=).
	Cmdline string
	// Release describes the running image (IMAGE_VERSION=, VERSION_ID=).
	Release string
	// Cert is the certificate bundles must be signed for.
	Cert string
	// BlockDir and DevDir are where Find looks for bundles written to a
	// disk: every name in BlockDir is opened in DevDir.
	BlockDir, DevDir string
	// Tries is how many boots a new slot gets to become healthy.
	Tries int
	// Healthy reports whether the booted system works (MarkGood waits for
	// it). nil means healthy.
	Healthy func(ctx context.Context) error
}

// NewSystem returns the appliance's boot disk.
func NewSystem() *System {
	return &System{
		PartDir:  "/dev/disk/by-partlabel",
		ESP:      "/efi",
		Cmdline:  "/proc/cmdline",
		Release:  "/usr/lib/strongroom/image-release",
		Cert:     "/usr/share/strongroom/update-signing.pem",
		BlockDir: "/sys/class/block",
		DevDir:   "/dev",
		Tries:    3,
	}
}

// Status describes the slots and what boots next.
type Status struct {
	Slot         Slot    `json:"slot"`
	ImageVersion string  `json:"image_version"`
	Version      string  `json:"version"`
	RootHash     string  `json:"root_hash"`
	Entries      []Entry `json:"entries"`
	// Trial is set while the running slot's entry still has a boot
	// counter: it has not been confirmed healthy yet.
	Trial bool `json:"trial"`
	// NextBoot is the slot systemd-boot picks at the next boot.
	NextBoot Slot `json:"next_boot"`
}

// Entry returns the boot entry of slot s, or nil.
func (st *Status) Entry(s Slot) *Entry {
	for i := range st.Entries {
		if st.Entries[i].Slot == s {
			return &st.Entries[i]
		}
	}
	return nil
}

// ErrNotAppliance is returned where the running system was not booted from
// a Strongroom image.
var ErrNotAppliance = errors.New("not running from a Strongroom appliance image (no strongroom.slot= on the kernel command line)")

// Running reads the running slot and image release, without the boot
// entries (it needs no access to the ESP; the agent uses it for its
// metrics).
func (s *System) Running() (*Status, error) {
	cmdline, err := os.ReadFile(s.Cmdline)
	if err != nil {
		return nil, err
	}
	slotParam := cmdlineParam(string(cmdline), "strongroom.slot")
	if slotParam == "" {
		return nil, ErrNotAppliance
	}
	slot, err := parseSlot(slotParam)
	if err != nil {
		return nil, fmt.Errorf("kernel command line: %w", err)
	}
	st := &Status{Slot: slot, RootHash: cmdlineParam(string(cmdline), "roothash")}
	rel, err := os.ReadFile(s.Release)
	if err != nil {
		return nil, fmt.Errorf("image release: %w", err)
	}
	m := parseOSRelease(string(rel))
	st.ImageVersion, st.Version = m["IMAGE_VERSION"], m["VERSION_ID"]
	return st, nil
}

// Status reads the running slot, the image release and the boot entries.
func (s *System) Status() (*Status, error) {
	st, err := s.Running()
	if err != nil {
		return nil, err
	}
	if st.Entries, err = readEntries(s.ESP); err != nil {
		return nil, err
	}
	if e := st.Entry(st.Slot); e != nil && e.State == Trial {
		st.Trial = true
	}
	if len(st.Entries) > 0 {
		st.NextBoot = st.Entries[0].Slot
	}
	return st, nil
}

// Progress reports a step of a long operation: Done of Total bytes.
type Progress struct {
	Step        string
	Done, Total int64
}

// Result says what an operation changed.
type Result struct {
	Slot         Slot   `json:"slot"`
	ImageVersion string `json:"image_version"`
	Message      string `json:"message"`
}

// ApplyOptions change Apply's checks.
type ApplyOptions struct {
	// AllowDowngrade installs a bundle that is not newer than the running
	// image.
	AllowDowngrade bool
	Progress       func(Progress)
}

// Apply writes the bundle at path (a file, or a disk it was written to)
// into the slot the system is not running from and makes it the next boot
// on trial. See the package documentation for the order of steps.
func (s *System) Apply(ctx context.Context, path string, o ApplyOptions) (*Result, error) {
	progress := o.Progress
	if progress == nil {
		progress = func(Progress) {}
	}
	st, unlock, err := s.lockedStatus()
	if err != nil {
		return nil, err
	}
	defer unlock()
	cur, err := s.runningEntry(st)
	if err != nil {
		return nil, err
	}
	cert, err := LoadCertificate(s.Cert)
	if err != nil {
		return nil, err
	}
	// A first pass reads the whole bundle and checks every file against
	// the signed manifest, so that a damaged or incomplete copy is refused
	// before the other slot (the version to roll back to) is touched.
	progress(Progress{Step: "checking the bundle's signature"})
	if err := checkBundle(path, cert, progress); err != nil {
		return nil, err
	}
	b, err := OpenBundle(path, cert)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	m := b.Manifest
	if err := checkVersion(m.ImageVersion, st.ImageVersion, o.AllowDowngrade); err != nil {
		return nil, err
	}
	target := st.Slot.Other()
	parts := s.slotParts(target)
	if err := parts.fit(&m); err != nil {
		return nil, err
	}

	// The target slot must not boot while it is rewritten.
	if err := s.removeEntries(target); err != nil {
		return nil, err
	}
	uki, err := writeSlot(ctx, b, st.Slot, target, parts, progress)
	if err != nil {
		return nil, err
	}
	if err := s.checkSlot(target, &m, uki, progress); err != nil {
		return nil, err
	}
	if err := s.bootNext(st, cur, target, uki, progress); err != nil {
		return nil, err
	}
	return &Result{Slot: target, ImageVersion: m.ImageVersion, Message: fmt.Sprintf(
		"version %s is in slot %s and verified; it boots at the next restart, on trial: unless it is healthy within %d boots, slot %s (version %s) boots again",
		m.ImageVersion, target, s.tries(), st.Slot, st.ImageVersion)}, nil
}

// runningEntry returns the running slot's boot entry, or an error when the
// running slot cannot be updated from: the other slot's entry is removed
// during an update, so the running slot's entry must be one that boots
// this system, or a failed update would leave nothing bootable.
func (s *System) runningEntry(st *Status) (*Entry, error) {
	cur := st.Entry(st.Slot)
	switch {
	case cur == nil:
		return nil, fmt.Errorf("the running slot %s has no boot entry on the EFI system partition (%s): installing into slot %s now could leave nothing to boot; reinstall the appliance image", st.Slot, filepath.Join(s.ESP, entriesDir), st.Slot.Other())
	case cur.State == Trial:
		return nil, fmt.Errorf("slot %s (version %s) is still on trial: it has not been confirmed healthy yet; wait for strongroom-boot-ok.service (strongroom update mark-good) or roll back first", st.Slot, st.ImageVersion)
	case cur.State == Bad:
		return nil, fmt.Errorf("slot %s (version %s) was rolled back from or failed its trial: restart first (slot %s boots), then update from there", st.Slot, st.ImageVersion, st.Slot.Other())
	case cur.RootHash != "" && st.RootHash != "" && cur.RootHash != st.RootHash:
		return nil, fmt.Errorf("the boot entry of the running slot %s names root hash %s, the running system has %s: the EFI system partition does not match what runs; reinstall the appliance image", st.Slot, cur.RootHash, st.RootHash)
	}
	return cur, nil
}

// checkVersion refuses a bundle that is not newer than the running image,
// unless a downgrade is allowed.
func checkVersion(bundle, running string, allowDowngrade bool) error {
	if c := compareVersions(bundle, running); c <= 0 && !allowDowngrade {
		if c == 0 {
			return fmt.Errorf("the bundle is version %s, which is running already", bundle)
		}
		return fmt.Errorf("the bundle is version %s, older than the running %s; use rollback to return to the other slot, or allow a downgrade explicitly", bundle, running)
	}
	return nil
}

// slotPartitions are the devices of one slot: its root file system and its
// dm-verity hash tree.
type slotPartitions struct {
	root, hash string
}

// slotParts returns the partitions of slot target.
func (s *System) slotParts(target Slot) slotPartitions {
	return slotPartitions{
		root: filepath.Join(s.PartDir, "sr-root-"+string(target)),
		hash: filepath.Join(s.PartDir, "sr-verity-"+string(target)),
	}
}

// fit checks that the bundle's root and verity images fit the partitions.
func (sp slotPartitions) fit(m *Manifest) error {
	for _, p := range []struct {
		path, file string
	}{{sp.root, fileRoot}, {sp.hash, fileVerity}} {
		f, _ := m.file(p.file)
		size, err := deviceSize(p.path)
		if err != nil {
			return err
		}
		if f.Size > size {
			return fmt.Errorf("%s (%d bytes) does not fit %s (%d bytes): this bundle needs a newer disk layout", p.file, f.Size, p.path, size)
		}
	}
	return nil
}

// writeSlot reads the bundle's payload once, writes its root and verity
// images to slot target's partitions and returns target's kernel image;
// other files are skipped. running names the slot that still boots, for
// the error when the bundle changes underway.
func writeSlot(ctx context.Context, b *Bundle, running, target Slot, parts slotPartitions, progress func(Progress)) ([]byte, error) {
	var uki []byte
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, r, err := b.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch f.Name {
		case ukiFile(target):
			if uki, err = io.ReadAll(r); err != nil {
				return nil, err
			}
		case fileRoot, fileVerity:
			dst := parts.root
			if f.Name == fileVerity {
				dst = parts.hash
			}
			step := fmt.Sprintf("writing %s to slot %s", f.Name, target)
			if err := writeDevice(ctx, dst, r, func(n int64) { progress(Progress{Step: step, Done: n, Total: f.Size}) }); err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, errPayload) {
					return nil, fmt.Errorf("the bundle changed while it was being installed (%w); slot %s was left without a boot entry, slot %s boots as before", err, target, running)
				}
				return nil, fmt.Errorf("write %s: %w", dst, err)
			}
		default:
			if _, err := io.Copy(io.Discard, r); err != nil {
				return nil, err
			}
		}
	}
	if uki == nil {
		return nil, fmt.Errorf("the bundle has no kernel image for slot %s", target)
	}
	return uki, nil
}

// checkSlot reads slot target back from the device, recomputes the tree
// the kernel will check, and checks that the kernel image boots target
// with the manifest's root hash and version.
func (s *System) checkSlot(target Slot, m *Manifest, uki []byte, progress func(Progress)) error {
	rootSize, _ := m.file(fileRoot)
	if err := s.verifySlot(target, m.RootHash, rootSize.Size, progress); err != nil {
		return fmt.Errorf("slot %s does not verify after writing, nothing was switched: %w", target, err)
	}
	k, err := ReadKernelImage(bytes.NewReader(uki))
	if err != nil {
		return err
	}
	return checkKernelImage(k, target, m.RootHash, m.ImageVersion)
}

// bootNext writes slot target's boot entry, on trial, and makes it the one
// that boots next; cur is the running slot's entry.
func (s *System) bootNext(st *Status, cur *Entry, target Slot, uki []byte, progress func(Progress)) error {
	progress(Progress{Step: "writing the boot entry"})
	name := entryName(target, s.tries())
	if err := durable.WriteFile(filepath.Join(s.ESP, entriesDir, name), uki, 0o600); err != nil {
		return fmt.Errorf("write boot entry: %w", err)
	}
	// systemd-boot prefers the newest version: an older (or the same)
	// version only boots next when the running entry steps back. Should
	// the new slot then fail every try, both entries are out of tries and
	// the newer, running one boots again.
	if after, err := s.Status(); err == nil && after.NextBoot != target {
		if err := renameSync(filepath.Join(s.ESP, entriesDir), cur.File, entryName(st.Slot, 0)); err != nil {
			return fmt.Errorf("make slot %s boot next: %w", target, err)
		}
	}
	return nil
}

func (s *System) tries() int {
	if s.Tries <= 0 {
		return 3
	}
	return s.Tries
}

// verifySlot re-reads slot target from its devices (dropping their cached
// pages first) and checks the dm-verity tree against rootHash.
func (s *System) verifySlot(target Slot, rootHash string, size int64, progress func(Progress)) error {
	rootPart := filepath.Join(s.PartDir, "sr-root-"+string(target))
	hashPart := filepath.Join(s.PartDir, "sr-verity-"+string(target))
	data, err := os.Open(rootPart)
	if err != nil {
		return err
	}
	defer data.Close()
	hash, err := os.Open(hashPart)
	if err != nil {
		return err
	}
	defer hash.Close()
	for _, f := range []*os.File{data, hash} {
		_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
	}
	sb, err := ReadVeritySuperblock(hash)
	if err != nil {
		return err
	}
	if sb.DataSize() > size {
		return fmt.Errorf("hash tree covers %d bytes, the root file system has %d", sb.DataSize(), size)
	}
	var done int64
	step := fmt.Sprintf("verifying slot %s", target)
	_, err = VerifyVerity(io.LimitReader(data, sb.DataSize()), hash, rootHash, func(n int64) {
		done += n
		progress(Progress{Step: step, Done: done, Total: sb.DataSize()})
	})
	return err
}

// Rollback makes the other slot boot next by marking the running slot's
// entry as out of tries. The running system is not changed until the
// restart.
func (s *System) Rollback() (*Result, error) {
	st, unlock, err := s.lockedStatus()
	if err != nil {
		return nil, err
	}
	defer unlock()
	other := st.Entry(st.Slot.Other())
	if other == nil {
		return nil, fmt.Errorf("slot %s holds no other version to roll back to", st.Slot.Other())
	}
	switch other.State {
	case Bad:
		return nil, fmt.Errorf("slot %s (version %s) failed to boot before, or was rolled back from; apply an update instead", other.Slot, other.ImageVersion)
	case Trial:
		// Marking the running slot bad now would leave no known-good slot
		// to fall back to if the new one fails.
		return nil, fmt.Errorf("slot %s (version %s) is a new update that has not been confirmed yet: restart to try it (it falls back to slot %s by itself if it does not come up)", other.Slot, other.ImageVersion, st.Slot)
	}
	cur := st.Entry(st.Slot)
	if cur == nil {
		return nil, fmt.Errorf("the running slot %s has no boot entry", st.Slot)
	}
	dir := filepath.Join(s.ESP, entriesDir)
	// The slot rolled back to boots on trial too: should it no longer
	// come up, both entries run out of tries and the newer one, which
	// worked, boots again.
	if err := renameSync(dir, other.File, entryName(other.Slot, s.tries())); err != nil {
		return nil, err
	}
	if err := renameSync(dir, cur.File, entryName(st.Slot, 0)); err != nil {
		return nil, err
	}
	return &Result{Slot: other.Slot, ImageVersion: other.ImageVersion, Message: fmt.Sprintf(
		"slot %s (version %s) boots at the next restart; slot %s (version %s) stays installed but will not boot unless updated again",
		other.Slot, other.ImageVersion, st.Slot, st.ImageVersion)}, nil
}

// ErrUnhealthy is returned by MarkGood when a trial boot did not become
// healthy: the only failure for which the machine should restart and let
// the boot loader count the try.
var ErrUnhealthy = errors.New("trial boot not healthy")

// MarkGood confirms a trial boot: when the running slot's entry still has
// tries left, it waits for Healthy and then removes the counter. It does
// nothing on a confirmed boot, or when the running slot was rolled back
// from (its entry is out of tries) in the meantime.
func (s *System) MarkGood(ctx context.Context) (*Result, error) {
	st, err := s.Status()
	if err != nil {
		return nil, err
	}
	cur := st.Entry(st.Slot)
	if cur == nil || cur.State != Trial {
		return &Result{Slot: st.Slot, ImageVersion: st.ImageVersion, Message: fmt.Sprintf("slot %s (version %s) is not on trial: nothing to confirm", st.Slot, st.ImageVersion)}, nil
	}
	if s.Healthy != nil {
		if err := s.Healthy(ctx); err != nil {
			return nil, fmt.Errorf("slot %s (version %s) is on trial and %w: %w", st.Slot, st.ImageVersion, ErrUnhealthy, err)
		}
	}
	// The console may have rolled back while the check ran.
	st, unlock, err := s.lockedStatus()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if cur = st.Entry(st.Slot); cur == nil || cur.State != Trial {
		return &Result{Slot: st.Slot, ImageVersion: st.ImageVersion, Message: fmt.Sprintf("slot %s (version %s) left its trial while it was checked (rolled back?): not confirmed", st.Slot, st.ImageVersion)}, nil
	}
	if err := renameSync(filepath.Join(s.ESP, entriesDir), cur.File, entryName(st.Slot, -1)); err != nil {
		return nil, err
	}
	return &Result{Slot: st.Slot, ImageVersion: st.ImageVersion, Message: fmt.Sprintf("slot %s (version %s) confirmed after %d boot attempt(s)", st.Slot, st.ImageVersion, cur.TriesDone)}, nil
}

// Candidate is a bundle found on an attached disk.
type Candidate struct {
	Path     string    `json:"path"`
	Manifest *Manifest `json:"manifest,omitempty"`
	// Err is set when the disk starts with a bundle that does not verify.
	Err error `json:"-"`
}

// Find looks for bundles written raw to the machine's block devices (an
// update copied with dd onto a USB stick). Devices that do not start with
// a bundle are skipped silently.
func (s *System) Find() ([]Candidate, error) {
	des, err := os.ReadDir(s.BlockDir)
	if err != nil {
		return nil, err
	}
	cert, certErr := LoadCertificate(s.Cert)
	var out []Candidate
	for _, de := range des {
		path := filepath.Join(s.DevDir, de.Name())
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		var head [512]byte
		_, err = io.ReadFull(f, head[:])
		f.Close()
		if err != nil || !strings.HasPrefix(string(head[:]), fileManifest+"\x00") {
			continue
		}
		c := Candidate{Path: path}
		if certErr != nil {
			c.Err = certErr
		} else if b, err := OpenBundle(path, cert); err != nil {
			c.Err = err
		} else {
			m := b.Manifest
			c.Manifest = &m
			b.Close()
		}
		out = append(out, c)
	}
	return out, nil
}

// lock serialises Apply, Rollback and MarkGood (the console and the CLI may
// both be used).
func (s *System) lock() (func(), error) {
	f, err := os.Open(filepath.Join(s.ESP, entriesDir))
	if err != nil {
		return nil, fmt.Errorf("boot entries: %w (is the EFI system partition mounted on %s?)", err, s.ESP)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, errors.New("another update or rollback is running")
	}
	return func() { f.Close() }, nil
}

// lockedStatus takes the lock and reads the status under it; unlock must
// be called when err is nil.
func (s *System) lockedStatus() (*Status, func(), error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, nil, err
	}
	st, err := s.Status()
	if err != nil {
		unlock()
		return nil, nil, err
	}
	return st, unlock, nil
}

func (s *System) removeEntries(slot Slot) error {
	dir := filepath.Join(s.ESP, entriesDir)
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range des {
		name := de.Name()
		if tmp, ok := strings.CutSuffix(name, ".tmp"); ok {
			name = tmp // a temporary left by an interrupted entry write
		}
		if sl, _, _, ok := parseEntryName(name); ok && sl == slot {
			if err := os.Remove(filepath.Join(dir, de.Name())); err != nil {
				return fmt.Errorf("remove the old entry of slot %s: %w", slot, err)
			}
		}
	}
	return durable.SyncDir(dir)
}

func deviceSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("slot partition: %w", err)
	}
	defer f.Close()
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, fmt.Errorf("size of %s: %w", path, err)
	}
	return n, nil
}

// writeDevice copies r to the start of an existing device (or file) and
// flushes it. Nothing beyond what is written is touched.
func writeDevice(ctx context.Context, path string, r io.Reader, progress func(int64)) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 4<<20)
	var done int64
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, rerr := r.Read(buf)
		if n > 0 {
			if _, err := f.Write(buf[:n]); err != nil {
				return err
			}
			done += int64(n)
			progress(done)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

func renameSync(dir, from, to string) error {
	if from != to {
		if err := os.Rename(filepath.Join(dir, from), filepath.Join(dir, to)); err != nil {
			return err
		}
	}
	return durable.SyncDir(dir)
}
