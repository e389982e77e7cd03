package vault

import (
	"errors"
	"fmt"
	"time"
)

// Sentinels for the kinds of failure callers decide on with errors.Is.
var (
	ErrDiskMissing     = errors.New("disk missing")
	ErrDiskReadOnly    = errors.New("disk is read-only")
	ErrDiskFull        = errors.New("disk is full")
	ErrForeignDisk     = errors.New("disk belongs to another vault")
	ErrNotVault        = errors.New("not a strongroom vault disk")
	ErrInUse           = errors.New("vault is in use by another process")
	ErrDegradedWrite   = errors.New("vault is degraded: new backups are paused")
	ErrRetentionLocked = errors.New("retention lock")
	ErrNotFound        = errors.New("not found")
	ErrCorrupt         = errors.New("data is corrupt")
)

// DiskError is a failure tied to one disk directory. Fix says what an
// operator should do about it.
type DiskError struct {
	Path string
	Kind error // one of the sentinels above
	Err  error
	Fix  string
}

func (e *DiskError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("disk %s: %v: %v", e.Path, e.Kind, e.Err)
	}
	return fmt.Sprintf("disk %s: %v", e.Path, e.Kind)
}

// Is matches the sentinel kind.
func (e *DiskError) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying error.
func (e *DiskError) Unwrap() error { return e.Err }

// LockedError refuses to delete or shorten retention of a snapshot.
type LockedError struct {
	Snapshot    string
	RetainUntil time.Time
	Now         time.Time
	Reason      string
}

func (e *LockedError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("snapshot %s is retention-locked: %s", e.Snapshot, e.Reason)
	}
	return fmt.Sprintf("snapshot %s is retention-locked until %s (%s from now); nobody can delete it or shorten its retention before then",
		e.Snapshot, e.RetainUntil.UTC().Format(time.RFC3339), e.RetainUntil.Sub(e.Now).Round(time.Minute))
}

// Is matches ErrRetentionLocked.
func (e *LockedError) Is(target error) bool { return target == ErrRetentionLocked }

// Remedy returns the operator-facing fix for an error from this package, or
// "" when there is nothing specific to say.
func Remedy(err error) string {
	var de *DiskError
	if errors.As(err, &de) && de.Fix != "" {
		return de.Fix
	}
	switch {
	case errors.Is(err, ErrInUse):
		return "another strongroom process (usually the agent) has the vault open; stop it or use its API"
	case errors.Is(err, ErrRetentionLocked):
		return "wait until the retain-until date has passed; expiry is then done by the warden service by itself"
	case errors.Is(err, ErrCorrupt):
		return "run 'strongroom vault scrub --repair' to rebuild damaged shards from the other disks"
	case errors.Is(err, ErrDegradedWrite):
		return "replace the missing disk with 'strongroom vault replace-disk OLD NEW'; existing backups stay readable meanwhile"
	}
	return ""
}
