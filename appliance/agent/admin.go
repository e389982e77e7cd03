package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// ReplaceDisk rebuilds a lost disk's shards onto an empty directory and
// records the new disk in the configuration file.
func (a *Agent) ReplaceDisk(ctx context.Context, oldDir, newDir string) (*vault.ScrubReport, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	a.jobMu.Lock()
	defer a.jobMu.Unlock()
	job := &JobStatus{Kind: "replace-disk", Started: a.now(), Phase: "rebuilding shards", Noun: "segments", Message: "rebuilding " + newDir}
	defer a.startJob(job)()
	rep, err := a.v.ReplaceDiskWatched(oldDir, newDir, a.watchVault(job))
	if err != nil {
		return nil, err
	}
	replaced := false
	for i, d := range a.cfg.Vault.Disks {
		if d == oldDir {
			a.cfg.Vault.Disks[i] = newDir
			replaced = true
		}
	}
	if !replaced {
		a.cfg.Vault.Disks = append(a.cfg.Vault.Disks, newDir)
	}
	if p := a.cfg.Path(); p != "" {
		if err := a.cfg.Save(p); err != nil {
			return &rep, fmt.Errorf("disk rebuilt, but the configuration %s could not be updated (put %s in place of %s under vault.disks by hand): %w", p, newDir, oldDir, err)
		}
	}
	return &rep, nil
}

// RetentionWindows are the retention windows in force: every restore
// point is kept for Rollback, the first complete one of each month for
// Audit.
type RetentionWindows struct {
	Rollback time.Duration `json:"rollback_ns"`
	Audit    time.Duration `json:"audit_ns"`
}

// RetentionChange is what SetRetention did.
type RetentionChange struct {
	Rollback time.Duration `json:"rollback_ns"`
	Audit    time.Duration `json:"audit_ns"`
	Extended int           `json:"extended_snapshots"` // existing restore points whose lock grew
}

// SetRetention changes the retention windows. New restore points get the
// new windows; existing ones keep their lock, which can only grow: when a
// window gets longer, every restore point it covers is extended to match,
// and when it gets shorter, nothing already locked is shortened.
func (a *Agent) SetRetention(ctx context.Context, rollback, audit time.Duration) (*RetentionChange, error) {
	a.vmu.RLock()
	defer a.vmu.RUnlock()
	if rollback <= 0 || audit < rollback {
		return nil, fmt.Errorf("retention: rollback must be positive and audit at least as long as rollback")
	}
	if audit > units.MaxDuration {
		// The configuration would not load again with it.
		return nil, fmt.Errorf("retention: audit %s is more than 100 years: give at most 100y", audit)
	}
	a.jobMu.Lock()
	defer a.jobMu.Unlock()
	old := a.cfg.Retention
	a.cfg.Retention = config.Retention{Rollback: config.Duration(rollback), Audit: config.Duration(audit)}
	if p := a.cfg.Path(); p != "" {
		if err := a.cfg.Save(p); err != nil {
			a.cfg.Retention = old
			return nil, fmt.Errorf("save configuration: %w", err)
		}
	}
	a.stateMu.Lock()
	a.windows = RetentionWindows{Rollback: rollback, Audit: audit}
	a.stateMu.Unlock()
	ch := &RetentionChange{Rollback: rollback, Audit: audit}
	snaps, err := a.v.Snapshots()
	if err != nil {
		return ch, err
	}
	seenMonth := map[string]bool{}
	for _, s := range snaps {
		if s.Meta["kind"] != "backup" {
			continue
		}
		month := s.Created.UTC().Format("2006-01")
		until := a.cfg.Retention.RetainUntil(s.Created, !seenMonth[month])
		seenMonth[month] = true
		if !until.After(s.RetainUntil) {
			continue
		}
		if err := a.v.ExtendRetention(s.ID, until); err != nil {
			return ch, err
		}
		ch.Extended++
	}
	return ch, nil
}
