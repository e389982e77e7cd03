package screens

import (
	"context"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

// Service is the part of the agent's API (api.Service) the status screen
// uses. Keeping it narrow lets tests fake only what the console calls.
// Methods are called from tea.Cmd goroutines, one action at a time plus
// status refreshes and browsing.
type Service interface {
	Status(ctx context.Context) (*agent.Status, error)
	Backup(ctx context.Context, req agent.BackupRequest) (*agent.BackupReport, error)
	Snapshots(ctx context.Context) ([]agent.SnapshotSummary, error)
	List(ctx context.Context, snapshot, dir string) (string, []catalog.Node, error)
	Restore(ctx context.Context, req agent.RestoreRequest) (*agent.RestoreReport, error)
	RestoreTest(ctx context.Context, sample int) (*agent.RestoreTestReport, error)
	Scrub(ctx context.Context, repair bool) (*vault.ScrubReport, error)
	ConfirmClock(ctx context.Context) error
	ReplaceDisk(ctx context.Context, oldDir, newDir string) (*vault.ScrubReport, error)
	SetRetention(ctx context.Context, rollback, audit time.Duration) (*agent.RetentionChange, error)
}
