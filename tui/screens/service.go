package screens

import (
	"context"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

// Service is the part of the agent's API (api.Service) the status screen
// uses. Keeping it narrow lets tests fake only what the console calls.
// Methods are called from tea.Cmd goroutines, one action at a time plus
// status refreshes.
type Service interface {
	Status(ctx context.Context) (*agent.Status, error)
	Backup(ctx context.Context, req agent.BackupRequest) (*agent.BackupReport, error)
	List(ctx context.Context, snapshot, dir string) (string, []catalog.Node, error)
	RestoreTest(ctx context.Context, sample int) (*agent.RestoreTestReport, error)
	Scrub(ctx context.Context, repair bool) (*vault.ScrubReport, error)
	ConfirmClock(ctx context.Context) error
}
