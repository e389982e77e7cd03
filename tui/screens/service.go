package screens

import (
	"context"
	"time"

	"github.com/strongroom/strongroom/appliance/api"
)

// Service is the part of the agent's API (api.Service) the status screen
// uses. Keeping it narrow lets tests fake only what the console calls.
// Methods are called from tea.Cmd goroutines, one action at a time plus
// status refreshes and browsing.
type Service interface {
	Status(ctx context.Context) (*api.Status, error)
	Backup(ctx context.Context, req api.BackupRequest) (*api.BackupReport, error)
	Snapshots(ctx context.Context) ([]api.SnapshotSummary, error)
	List(ctx context.Context, snapshot, dir string) (string, []api.Node, error)
	Restore(ctx context.Context, req api.RestoreRequest) (*api.RestoreReport, error)
	Rollback(ctx context.Context, req api.RollbackRequest) (*api.RollbackReport, error)
	RestoreTest(ctx context.Context, sample int) (*api.RestoreTestReport, error)
	Scrub(ctx context.Context, repair bool) (*api.ScrubReport, error)
	ConfirmClock(ctx context.Context) error
	ReplaceDisk(ctx context.Context, oldDir, newDir string) (*api.ScrubReport, error)
	SetRetention(ctx context.Context, rollback, audit time.Duration) (*api.RetentionChange, error)
}
