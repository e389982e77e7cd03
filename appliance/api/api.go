// Package api is the one interface through which the CLI and the console
// drive the agent: in-process (the *agent.Agent itself) or, when the agent
// daemon runs, over HTTP on its unix socket (Remote). Both satisfy Service,
// so every command behaves the same either way.
package api

import (
	"context"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

// Service is what the agent offers operators.
type Service interface {
	Status(ctx context.Context) (*agent.Status, error)
	Backup(ctx context.Context, req agent.BackupRequest) (*agent.BackupReport, error)
	Snapshots(ctx context.Context) ([]agent.SnapshotSummary, error)
	List(ctx context.Context, snapshot, dir string) (string, []catalog.Node, error)
	Find(ctx context.Context, snapshot string, q catalog.Query, limit int) (string, []catalog.Entry, error)
	Restore(ctx context.Context, req agent.RestoreRequest) (*agent.RestoreReport, error)
	Rollback(ctx context.Context, req agent.RollbackRequest) (*agent.RollbackReport, error)
	Export(ctx context.Context, req agent.ExportRequest) (*agent.ExportReport, error)
	RestoreTest(ctx context.Context, sample int) (*agent.RestoreTestReport, error)
	Scrub(ctx context.Context, repair bool) (*vault.ScrubReport, error)
	ConfirmClock(ctx context.Context) error
	Report(ctx context.Context, since time.Time) (*agent.Report, error)
	DeleteSnapshot(ctx context.Context, id string) error
	ReplaceDisk(ctx context.Context, oldDir, newDir string) (*vault.ScrubReport, error)
	SetRetention(ctx context.Context, rollback, audit time.Duration) (*agent.RetentionChange, error)
}

var _ Service = (*agent.Agent)(nil)
