package api

import "time"

// BackupReport is what one backup run did: its restore point, each protected
// unit's outcome and the run's totals. Items counts the items the restore
// point holds; NewItems, Carried, Moved and Removed say how they differ from
// the previous point.
type BackupReport struct {
	Snapshot      string       `json:"snapshot"`
	Result        RunResult    `json:"result"`
	Started       time.Time    `json:"started"`
	Seconds       float64      `json:"seconds"`
	Units         []UnitReport `json:"units"`
	Coverage      []Coverage   `json:"coverage"`
	Protected     int          `json:"protected_units"`
	Failed        int          `json:"failed_units"`
	Departed      []string     `json:"departed,omitempty"`
	Items         int          `json:"items"`
	NewItems      int          `json:"new_items"`
	Carried       int          `json:"carried_items"`
	Moved         int          `json:"moved_items"`
	Removed       int          `json:"removed_items"`
	FailedItems   int          `json:"failed_items"`
	Bytes         int64        `json:"downloaded_bytes"`
	StoredBytes   int64        `json:"stored_new_bytes"`
	Requests      int64        `json:"graph_requests"`
	Throttled     int64        `json:"graph_throttled"`
	ResourceUnits int64        `json:"resource_units"`
	RetainUntil   time.Time    `json:"retain_until"`
	Errors        []string     `json:"errors,omitempty"`
}

// BackupRequest asks for a backup run now; Users limits it to these units
// (all when empty).
type BackupRequest struct {
	Users []string `json:"users,omitempty"`
}

// ClockStatus is the warden's trusted clock as the vault reads it.
type ClockStatus struct {
	Trusted        time.Time     `json:"trusted"`
	Wall           time.Time     `json:"wall"`
	JumpPending    bool          `json:"jump_pending"`
	Jump           time.Duration `json:"jump_ns"`
	MaxForwardJump time.Duration `json:"max_forward_jump_ns"`
	Reason         string        `json:"reason,omitempty"`
	Witness        string        `json:"witness,omitempty"`
}

// Coverage is one workload's protected units: All found in the tenant,
// Protected in the last restore point, and the names of those that are not.
type Coverage struct {
	Workload    string   `json:"workload"`
	Noun        string   `json:"noun"`
	All         int      `json:"all"`
	Protected   int      `json:"protected"`
	Unprotected []string `json:"unprotected,omitempty"`
	Departed    []string `json:"departed,omitempty"`
}

// DiskStatus is one vault disk.
type DiskStatus struct {
	Index      int    `json:"index"`
	Path       string `json:"path"`
	Present    bool   `json:"present"`
	TotalBytes uint64 `json:"total_bytes"`
	FreeBytes  uint64 `json:"free_bytes"`
	UsedBytes  uint64 `json:"used_bytes"`
	Shards     int    `json:"shards"`
	// Device is the device number of the disk's file system (0: not
	// known); disks on one device fail together.
	Device uint64 `json:"device"`
}

// Entry is one stored item as the catalog lists it; Meta holds the keys
// named by the Meta constants.
type Entry struct {
	Path string            `json:"path"`
	View string            `json:"view"`
	Size int64             `json:"size"`
	Meta map[string]string `json:"meta,omitempty"`
}

// ExportReport is what an export wrote.
type ExportReport struct {
	Snapshot string   `json:"snapshot"`
	Format   string   `json:"format"`
	Items    int      `json:"items"`
	Bytes    int64    `json:"bytes"`
	Files    []string `json:"files"`
}

// ExportRequest writes the selected items to Dest in Format (see the CLI's
// export help for the formats of each kind).
type ExportRequest struct {
	Selection
	Format string `json:"format"`
	Dest   string `json:"dest"`
	// SplitSize starts a new numbered PST file past this many bytes (0:
	// 20 GiB, Outlook's own limit).
	SplitSize int64 `json:"split_size,omitempty"`
}

// JobStatus is a running job (backup, restore, export, ...) and how far it
// is.
type JobStatus struct {
	Kind      string    `json:"kind"`
	Started   time.Time `json:"started"`
	UnitsDone int       `json:"units_done"`
	UnitsAll  int       `json:"units_all"`
	Items     int       `json:"items"`
	Bytes     int64     `json:"bytes"`
	Message   string    `json:"message,omitempty"`
	// Phase is the step the job is at; Noun names its units (units,
	// items, files, segments); BytesAll is the bytes it will handle when
	// known; Throttled and ThrottlePaused are the Graph answers that asked
	// it to back off and how long they paused the tenant during it.
	Phase          string        `json:"phase,omitempty"`
	Noun           string        `json:"noun,omitempty"`
	BytesAll       int64         `json:"bytes_all,omitempty"`
	Throttled      int64         `json:"throttled,omitempty"`
	ThrottlePaused time.Duration `json:"throttle_paused_ns,omitempty"`
}

// Node is one entry of a catalog directory listing: a folder (Leaf nil) or
// an item.
type Node struct {
	Name  string `json:"name"`
	View  string `json:"view"`
	Items int    `json:"items"`
	Bytes int64  `json:"bytes"`
	Leaf  *Entry `json:"item,omitempty"`
}

// Query selects catalog entries; empty fields match everything.
type Query struct {
	User    string    `json:"user,omitempty"`
	Kind    string    `json:"kind,omitempty"`
	Folder  string    `json:"folder,omitempty"`
	Subject string    `json:"subject,omitempty"`
	From    string    `json:"from,omitempty"`
	After   time.Time `json:"after,omitzero"`
	Before  time.Time `json:"before,omitzero"`
}

// Report is the compliance report over a period: runs, restore tests and
// retention.
type Report struct {
	Generated      time.Time           `json:"generated"`
	Since          time.Time           `json:"since"`
	Tenant         string              `json:"tenant"`
	VaultID        string              `json:"vault_id"`
	Layout         string              `json:"layout"`
	Backups        []SnapshotSummary   `json:"backups"`
	Successful     int                 `json:"successful"`
	Partial        int                 `json:"partial"`
	LastSuccess    *SnapshotSummary    `json:"last_success,omitempty"`
	RestoreTests   []RestoreTestReport `json:"restore_tests"`
	RestoreTestsOK int                 `json:"restore_tests_ok"`
	Retention      RetentionSummary    `json:"retention"`
	Offsite        *OffsiteSummary     `json:"offsite,omitempty"`
	Alerts         []string            `json:"alerts,omitempty"`
}

// RestoreReport is what a restore did.
type RestoreReport struct {
	RestoreResult
	Workload     string  `json:"workload"`
	Snapshot     string  `json:"snapshot"`
	Selected     int     `json:"selected"`
	TargetUser   string  `json:"target_user"`
	TargetFolder string  `json:"target_folder"`
	Seconds      float64 `json:"seconds"`
}

// RestoreRequest restores a selection to TargetUser (the original owner when
// empty) under TargetFolder, with Collision one of skip, copy or replace.
type RestoreRequest struct {
	Selection
	TargetUser   string `json:"target_user,omitempty"`
	TargetFolder string `json:"target_folder,omitempty"`
	Collision    string `json:"collision,omitempty"`
	// AllVersions recreates a file's history, oldest first; Permissions
	// re-applies its sharing (off by default: old sharing can re-expose
	// data).
	AllVersions bool `json:"all_versions,omitempty"`
	Permissions bool `json:"permissions,omitempty"`
	// From and To restore only the channel threads with a message or a
	// reply created in [From, To).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// RestoreResult counts a restore's items by outcome.
type RestoreResult struct {
	Restored int      `json:"restored"`
	Skipped  int      `json:"skipped"`
	Replaced int      `json:"replaced"`
	Failed   int      `json:"failed"`
	Bytes    int64    `json:"bytes,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// RestoreTestReport is one restore test: a sample of a restore point read
// back and checked against its recorded hashes.
type RestoreTestReport struct {
	Snapshot string    `json:"snapshot"`
	At       time.Time `json:"at"`
	Items    int       `json:"items"`
	Bytes    int64     `json:"bytes"`
	OK       bool      `json:"ok"`
	Failures []string  `json:"failures,omitempty"`
}

// RetentionChange is the retention in force after SetRetention and how many
// restore points it extended.
type RetentionChange struct {
	Rollback time.Duration `json:"rollback_ns"`
	Audit    time.Duration `json:"audit_ns"`
	Extended int           `json:"extended_snapshots"`
}

// RollbackReport is what a ransomware rollback did, or with DryRun would do.
type RollbackReport struct {
	User             string    `json:"user"`
	Site             string    `json:"site,omitempty"`
	Libraries        []string  `json:"libraries,omitempty"`
	Before           time.Time `json:"before"`
	Snapshot         string    `json:"snapshot"`
	SnapshotTime     time.Time `json:"snapshot_time"`
	DryRun           bool      `json:"dry_run,omitempty"`
	Restored         []string  `json:"restored"`
	Quarantined      []string  `json:"quarantined"`
	QuarantineFolder string    `json:"quarantine_folder,omitempty"`
	Unchanged        int       `json:"unchanged"`
	Bytes            int64     `json:"bytes"`
	Failed           int       `json:"failed"`
	Errors           []string  `json:"errors,omitempty"`
	Seconds          float64   `json:"seconds"`
}

// RollbackRequest puts User's OneDrive, or a site's libraries, back to the
// last clean restore point before Before.
type RollbackRequest struct {
	User string `json:"user"`
	// Site, instead of User, is a SharePoint site (URL or id) whose
	// libraries are rolled back; Library limits it to one of them.
	Site    string    `json:"site,omitempty"`
	Library string    `json:"library,omitempty"`
	Before  time.Time `json:"before"`
	DryRun  bool      `json:"dry_run,omitempty"`
}

// RunResult is a backup run's outcome: see the RunResult constants.
type RunResult string

// ScrubReport is what a scrub (or a disk replacement, which ends with one)
// checked and repaired.
type ScrubReport struct {
	Segments         int            `json:"segments"`
	ShardsChecked    int            `json:"shards_checked"`
	BytesRead        int64          `json:"bytes_read"`
	Problems         []ShardProblem `json:"problems"`
	Repaired         int            `json:"repaired"`
	Unrecoverable    []uint64       `json:"unrecoverable"`
	ManifestsCopied  int            `json:"manifests_copied"`
	Seconds          float64        `json:"seconds"`
	Healthy          bool           `json:"healthy"`
	MissingDiskSlots []int          `json:"missing_disk_slots,omitempty"`
}

// Selection names stored items: a restore point (an ID or "latest"), a unit
// (user, site) and a folder, kind, paths or file version within it.
type Selection struct {
	Snapshot string   `json:"snapshot"`
	User     string   `json:"user,omitempty"`
	Folder   string   `json:"folder,omitempty"`
	Kind     string   `json:"kind,omitempty"`
	Paths    []string `json:"paths,omitempty"`
	Version  string   `json:"version,omitempty"`
}

// ShardProblem is one damaged or missing shard a scrub found.
type ShardProblem struct {
	Segment  uint64 `json:"segment"`
	Shard    int    `json:"shard"`
	Disk     string `json:"disk"`
	Problem  string `json:"problem"`
	Repaired bool   `json:"repaired"`
}

// Snapshot is a restore point's manifest header.
type Snapshot struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Created     time.Time         `json:"created"`
	RetainUntil time.Time         `json:"retain_until"`
	Meta        map[string]string `json:"meta,omitempty"`
	Items       int64             `json:"items"`
	Bytes       int64             `json:"bytes"`
	NewBytes    int64             `json:"new_bytes"`
}

// SnapshotSummary is one restore point as listings show it.
type SnapshotSummary struct {
	ID          string    `json:"id"`
	Created     time.Time `json:"created"`
	RetainUntil time.Time `json:"retain_until"`
	Result      string    `json:"result"`
	Items       int64     `json:"items"`
	Bytes       int64     `json:"bytes"`
	Units       string    `json:"units"`
	Failed      string    `json:"failed_units"`
	AgeSeconds  float64   `json:"age_seconds"`
}

// Status is the agent's state: the vault, running jobs, the last runs,
// coverage and alerts.
type Status struct {
	Now             time.Time          `json:"now"`
	Vault           VaultStatus        `json:"vault"`
	Job             *JobStatus         `json:"job,omitempty"`
	Jobs            []JobStatus        `json:"jobs,omitempty"`
	LastBackup      *SnapshotSummary   `json:"last_backup,omitempty"`
	LastSuccess     *SnapshotSummary   `json:"last_success,omitempty"`
	LastRun         *BackupReport      `json:"last_run,omitempty"`
	Coverage        []Coverage         `json:"coverage,omitempty"`
	Throttle        ThrottleStats      `json:"throttle"`
	LastScrub       *ScrubReport       `json:"last_scrub,omitempty"`
	LastScrubAt     time.Time          `json:"last_scrub_at,omitempty"`
	LastRestoreTest *RestoreTestReport `json:"last_restore_test,omitempty"`
	Interval        time.Duration      `json:"interval_ns"`
	Retention       RetentionWindows   `json:"retention"`
	Offsite         *OffsiteSummary    `json:"offsite,omitempty"`
	Alerts          []string           `json:"alerts,omitempty"`
}

// OffsiteSummary is the offsite copy (an S3 bucket with Object Lock) as its
// copier last published it; absent when the appliance has none configured.
type OffsiteSummary struct {
	Endpoint         string    `json:"endpoint"`
	Bucket           string    `json:"bucket"`
	Published        bool      `json:"published"` // false: the copier has not run yet
	LastSuccess      time.Time `json:"last_success"`
	LastError        string    `json:"last_error,omitempty"`
	Snapshots        int       `json:"snapshots"`         // locked restore points
	SnapshotsOffsite int       `json:"snapshots_offsite"` // of which complete in the bucket
	NewestOffsite    string    `json:"newest_offsite,omitempty"`
	LagSeconds       float64   `json:"lag_seconds"`
	BytesCopied      int64     `json:"bytes_copied_total"`
}

// ThrottleStats counts Graph requests, throttling and pacing since the agent
// started.
type ThrottleStats struct {
	Requests         int64 `json:"requests"`
	Throttled        int64 `json:"throttled"`
	MailboxThrottled int64 `json:"mailbox_throttled"`
	Retries          int64 `json:"retries"`
	// CutShort counts answers that ended early and were asked for again.
	CutShort      int64         `json:"cut_short"`
	Paused        time.Duration `json:"paused_ns"`
	UnitsWait     time.Duration `json:"units_wait_ns"`
	ResourceUnits int64         `json:"resource_units"`
	MailboxPaused time.Duration `json:"mailbox_paused_ns"`
	// TeamsWait is the time Teams and group requests waited for their
	// share of the per-tenant request rate.
	TeamsWait time.Duration `json:"teams_wait_ns"`
}

// Unit is one protected unit: a mailbox, a user's drive, a site.
type Unit struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	OwnerID     string `json:"owner_id,omitempty"`
	Deleted     bool   `json:"deleted,omitempty"`
	Disabled    bool   `json:"disabled,omitempty"`
	Shared      bool   `json:"shared,omitempty"`
}

// UnitReport is one unit's outcome in a backup run.
type UnitReport struct {
	Workload string    `json:"workload"`
	Unit     Unit      `json:"unit"`
	State    UnitState `json:"state"`
	Error    string    `json:"error,omitempty"`
	UnitResult
}

// UnitResult counts what a backup did for one unit.
type UnitResult struct {
	Collections  int      `json:"collections"`
	Items        int      `json:"items"`
	NewItems     int      `json:"new_items"`
	CarriedItems int      `json:"carried_items"`
	MovedItems   int      `json:"moved_items"`
	RemovedItems int      `json:"removed_items"`
	Failed       int      `json:"failed_items"`
	Bytes        int64    `json:"downloaded_bytes"`
	Requests     int64    `json:"graph_requests"`
	Errors       []string `json:"errors,omitempty"`
	Vanished     []string `json:"vanished,omitempty"`
	Written      int      `json:"written"`
	Resynced     []string `json:"resynced,omitempty"`
}

// UnitState is a unit's outcome in a run: see the UnitState constants.
type UnitState string

// VaultStatus is the vault's health, capacity, retention and clock.
type VaultStatus struct {
	VaultID             string       `json:"vault_id"`
	Layout              string       `json:"layout"`
	K                   int          `json:"k"`
	M                   int          `json:"m"`
	Disks               []DiskStatus `json:"disks"`
	Degraded            bool         `json:"degraded"`
	CapacityBytes       uint64       `json:"capacity_bytes"`
	UsedBytes           uint64       `json:"used_bytes"`
	StoredBytes         uint64       `json:"stored_bytes"`
	UniqueBytes         uint64       `json:"unique_bytes"`
	LogicalBytes        uint64       `json:"logical_bytes"`
	DedupRatio          float64      `json:"dedup_ratio"`
	Segments            int          `json:"segments"`
	DegradedSegments    int          `json:"degraded_segments"`
	Snapshots           int          `json:"snapshots"`
	LockedSnapshots     int          `json:"locked_snapshots"`
	LockedUntil         time.Time    `json:"locked_until"`
	DegradedReads       int64        `json:"degraded_reads"`
	Clock               ClockStatus  `json:"clock"`
	WardenAlerts        []string     `json:"warden_alerts,omitempty"`
	UnreadableSnapshots []string     `json:"unreadable_snapshots,omitempty"`
	LatestSnapshot      *Snapshot    `json:"latest_snapshot,omitempty"`
	// FreeBytes is the usable capacity still free; Placement how the
	// present disks lie on devices, and DeviceWarning what sharing one
	// costs (empty when none is shared).
	FreeBytes     uint64    `json:"free_bytes"`
	Placement     Placement `json:"placement"`
	DeviceWarning string    `json:"device_warning,omitempty"`
}

// Placement is how a vault's disk directories lie on devices: how many,
// which hold more than one directory, and how many devices may be lost
// with every segment still readable.
type Placement struct {
	Devices  int           `json:"devices"`
	Shared   []DeviceGroup `json:"shared,omitempty"`
	Survives int           `json:"survives_lost_devices"`
}

// DeviceGroup is one device that holds more than one disk directory.
type DeviceGroup struct {
	Device uint64   `json:"device"`
	Paths  []string `json:"paths"`
}

// RetentionWindows are the retention windows in force: every restore
// point is kept for Rollback, the first complete one of each month for
// Audit.
type RetentionWindows struct {
	Rollback time.Duration `json:"rollback_ns"`
	Audit    time.Duration `json:"audit_ns"`
}

// RetentionSummary is the retention policy and the locks in force.
type RetentionSummary struct {
	Rollback        time.Duration `json:"rollback_ns"`
	Audit           time.Duration `json:"audit_ns"`
	LockedSnapshots int           `json:"locked_snapshots"`
	LockedUntil     time.Time     `json:"locked_until"`
	Oldest          time.Time     `json:"oldest_restore_point"`
}
