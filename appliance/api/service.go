package api

import (
	"context"
	"time"
)

// Service is what the agent offers operators, in the wire types of this
// package. Local serves it from an agent in this process, Remote from the
// agent daemon's socket.
type Service interface {
	Status(ctx context.Context) (*Status, error)
	Backup(ctx context.Context, req BackupRequest) (*BackupReport, error)
	Snapshots(ctx context.Context) ([]SnapshotSummary, error)
	List(ctx context.Context, snapshot, dir string) (string, []Node, error)
	Find(ctx context.Context, snapshot string, q Query, limit int) (string, []Entry, error)
	Restore(ctx context.Context, req RestoreRequest) (*RestoreReport, error)
	Rollback(ctx context.Context, req RollbackRequest) (*RollbackReport, error)
	Export(ctx context.Context, req ExportRequest) (*ExportReport, error)
	RestoreTest(ctx context.Context, sample int) (*RestoreTestReport, error)
	Scrub(ctx context.Context, repair bool) (*ScrubReport, error)
	ConfirmClock(ctx context.Context) error
	Report(ctx context.Context, since time.Time) (*Report, error)
	DeleteSnapshot(ctx context.Context, id string) error
	ReplaceDisk(ctx context.Context, oldDir, newDir string) (*ScrubReport, error)
	SetRetention(ctx context.Context, rollback, audit time.Duration) (*RetentionChange, error)
}
