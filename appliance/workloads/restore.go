package workloads

import (
	"context"
	"io"
	"time"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/storage/vault"
)

// Collision policies of RestoreOptions.Collision: what a restored item
// does when its target already holds one like it.
const (
	CollisionSkip    = "skip"    // keep the existing item, do not restore
	CollisionCopy    = "copy"    // restore beside it (duplicates allowed, or a new name)
	CollisionReplace = "replace" // the restored item takes its place
)

// RestoreOptions says where restored items go.
type RestoreOptions struct {
	// TargetUserID is the user (mailbox, drive) written to, id or UPN.
	TargetUserID string
	// TargetFolder is the folder items go beneath, in their original
	// folder structure; each workload says what "" means.
	TargetFolder string
	// SourceFolder is the folder the items were selected by ("" for
	// none), so that a workload can place them relative to it.
	SourceFolder string
	// SnapshotTime is when the restore point the items come from was
	// made, for a default a workload needs (a folder's name).
	SnapshotTime time.Time
	// Collision is skip (default), copy or replace.
	Collision string
	// AllVersions (files) writes each file's earlier versions, among the
	// items restored, oldest first before the file, so its history is
	// recreated and the live file ends at the restored version.
	AllVersions bool
	// Permissions (files) re-applies the stored sharing of each file:
	// links and people. Off by default: old sharing can expose data that
	// was unshared on purpose since.
	Permissions bool
	// From and To (channel messages) restore only the threads with a
	// message or a reply created at or after From and before To (a zero
	// time: no bound): each such thread's message, and of its replies
	// those created in the window.
	From, To time.Time
}

// RestoreResult counts what a restore did.
type RestoreResult struct {
	Restored int `json:"restored"`
	Skipped  int `json:"skipped"`
	Replaced int `json:"replaced"`
	Failed   int `json:"failed"`
	// Bytes is the content written back.
	Bytes  int64    `json:"bytes,omitempty"`
	Errors []string `json:"errors,omitempty"`
	// Folder is the folder the workload chose to restore beneath when
	// the options named none ("": the items' original places); the agent
	// reports it as the restore's target folder.
	Folder string `json:"-"`
}

// Source reads stored content: vault.Vault satisfies it.
type Source interface {
	// WriteItem writes an item's content to w, checking it against the
	// hash recorded at backup time.
	WriteItem(w io.Writer, it vault.Item) error
}

// Restorer is a workload that can write items back through Graph.
type Restorer interface {
	// Kinds maps the names operators use ("mail", "files") to the
	// catalog kinds of the items a restore of that name writes back.
	Kinds() map[string]string
	// Restore writes items (of this workload, of any snapshot) back with
	// g, the restore app's client. Failures of single items are counted
	// in the result; an error means nothing could be restored.
	Restore(ctx context.Context, g *graph.Client, src Source, items []vault.Item, o RestoreOptions) (RestoreResult, error)
}
