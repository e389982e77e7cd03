package vault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The agent keeps the vault open all the time; the warden's expiry needs
// it alone (it removes segments, and a backup running meanwhile could
// deduplicate against them). They hand the vault over through a request
// file on the disks: the warden writes it and waits for the vault lock;
// the agent, between jobs, sees it, closes the vault and reopens it once
// the file is gone.
const handoverFile = "warden.request"

// RequestHandover asks the process holding the vault to let go of it.
func RequestHandover(disks []string) error {
	var errs []error
	ok := 0
	for _, d := range disks {
		err := writeRequest(filepath.Join(d, spoolDir), fmt.Appendf(nil, "pid %d\n", os.Getpid()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ok++
	}
	if ok == 0 {
		return fmt.Errorf("request the vault from the agent: %w", errors.Join(errs...))
	}
	return nil
}

// EndHandover withdraws the request, so the agent takes the vault back.
func EndHandover(disks []string) {
	for _, d := range disks {
		os.Remove(filepath.Join(d, spoolDir, handoverFile))
	}
}

// HandoverRequested reports whether the warden waits for the vault.
func HandoverRequested(disks []string) bool {
	for _, d := range disks {
		if _, err := os.Stat(filepath.Join(d, spoolDir, handoverFile)); err == nil {
			return true
		}
	}
	return false
}

// Disks are the paths of the disks present.
func (v *Vault) Disks() []string {
	var out []string
	for _, d := range v.present() {
		out = append(out, d.Path)
	}
	return out
}

// OpenWhenFree opens the vault, retrying while another process holds it,
// for at most wait.
func OpenWhenFree(opts Options, wait time.Duration) (*Vault, error) {
	deadline := time.Now().Add(wait)
	for {
		v, err := Open(opts)
		if err == nil || !errors.Is(err, ErrInUse) || time.Now().After(deadline) {
			return v, err
		}
		time.Sleep(time.Second)
	}
}

// Owner returns the user and group that own the vault's files: those of
// the state directory when given, else of the first disk's spool, else of
// the first disk. ok is false when none of them can be read. Root uses it
// to act as the vault's owner instead of leaving files the owner cannot
// open.
func Owner(disks []string, stateDir string) (uid, gid uint32, ok bool) {
	var probes []string
	if stateDir != "" {
		probes = append(probes, stateDir)
	}
	if len(disks) > 0 {
		probes = append(probes, filepath.Join(disks[0], spoolDir), disks[0])
	}
	for _, p := range probes {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if sys, isUnix := st.Sys().(*syscall.Stat_t); isUnix {
			return sys.Uid, sys.Gid, true
		}
	}
	return 0, 0, false
}

// writeRequest creates the hand-over request in the spool without following
// a link: the spool is the agent's, and the warden writes with privileges.
// A name already there (the agent's, or a link it planted) is removed first.
func writeRequest(spool string, data []byte) error {
	dir, err := unix.Open(spool, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", spool, err)
	}
	defer unix.Close(dir)
	if err := unix.Unlinkat(dir, handoverFile, 0); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove the old %s: %w", handoverFile, err)
	}
	fd, err := unix.Openat(dir, handoverFile, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", filepath.Join(spool, handoverFile), err)
	}
	defer unix.Close(fd)
	_, err = unix.Write(fd, data)
	return err
}
