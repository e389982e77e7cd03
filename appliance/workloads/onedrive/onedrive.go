package onedrive

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
)

// Name is the workload's name: the first element of its paths in a
// snapshot and its metrics label.
const Name = "onedrive"

// Options tunes a drive's backup. The zero value is what the agent uses.
type Options struct {
	// PageSize is asked for on delta pages (default 500).
	PageSize int
	// ItemRetries is how often a failed, short or mismatching download
	// is retried before the file is reported as failed (default 3;
	// negative: none).
	ItemRetries int
	// Downloads is how many files of one drive download at once
	// (default 4).
	Downloads int
	// NoVersions leaves earlier versions out (tests of the current
	// version alone; the agent keeps them).
	NoVersions bool
}

func (o Options) withDefaults() Options {
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	switch {
	case o.ItemRetries == 0:
		o.ItemRetries = 3
	case o.ItemRetries < 0:
		o.ItemRetries = 0
	}
	if o.Downloads <= 0 {
		o.Downloads = 4
	}
	return o
}

// Workload protects every user's OneDrive.
type Workload struct {
	Options Options
}

// Name implements workloads.Workload.
func (Workload) Name() string { return Name }

// Noun implements workloads.Workload.
func (Workload) Noun() (string, string) { return "drive", "drives" }

// Discover lists every user of the directory as a unit: whether a user
// has a drive is only known by asking, which Backup does (a user without
// one is reported as having nothing to protect). Users gone from the
// directory are carried by the agent as departed.
func (Workload) Discover(_ context.Context, t workloads.Tenant) ([]workloads.Unit, error) {
	var out []workloads.Unit
	for _, u := range t.Users {
		out = append(out, workloads.UserUnit(u))
	}
	return out, nil
}

// Backup implements workloads.Workload.
func (w Workload) Backup(ctx context.Context, g *graph.Client, sink workloads.Sink, prev workloads.Previous, u workloads.Unit) (workloads.Result, error) {
	return BackupDrive(ctx, g, sink, prev, u, w.Options)
}

// driveIDOf reads the id of a drive record.
func driveIDOf(record []byte) (string, error) {
	var d struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(record, &d); err != nil || d.ID == "" {
		return "", errors.New("the drive record has no id")
	}
	return d.ID, nil
}

// PathPrefix is where a user's drive lives in a snapshot.
func PathPrefix(userID string) string { return workloads.Prefix(Name, userID) }

// Paths of a drive's records, under PathPrefix.
const (
	driveRecord = "_drive.json"
	deltaState  = "_state/delta"
	filesDir    = "files/"
	foldersDir  = "folders/"
	versionsDir = "versions/"
	permsDir    = "permissions/"
)

// Meta keys this package sets besides the catalog's.
const (
	MetaQuickXor   = "quickxor"    // file.hashes.quickXorHash as Graph reported it
	MetaSHA256     = "sha256"      // file.hashes.sha256Hash, when Graph reports it
	MetaCTag       = "ctag"        // content tag of the stored version
	MetaETag       = "etag"        // entity tag (changes with metadata and sharing too)
	MetaMime       = "mime"        // file.mimeType
	MetaCreated    = "created"     // createdDateTime, RFC 3339
	MetaCreatedBy  = "created_by"  // createdBy.user.email or displayName
	MetaModifiedBy = "modified_by" // lastModifiedBy.user.email or displayName
	MetaDriveID    = "drive_id"    // the drive's Graph id
	MetaShared     = "shared"      // sharing scope of a shared item
)

// driveItem is the part of a Graph driveItem a backup reads. Raw is the
// element exactly as Graph sent it.
type driveItem struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Removed  json.RawMessage `json:"@removed"`
	Deleted  json.RawMessage `json:"deleted"`
	Root     json.RawMessage `json:"root"`
	Folder   json.RawMessage `json:"folder"`
	Size     int64           `json:"size"`
	CTag     string          `json:"cTag"`
	ETag     string          `json:"eTag"`
	Created  string          `json:"createdDateTime"`
	Modified string          `json:"lastModifiedDateTime"`
	Download string          `json:"@microsoft.graph.downloadUrl"`
	Parent   struct {
		ID      string `json:"id"`
		DriveID string `json:"driveId"`
	} `json:"parentReference"`
	File *struct {
		MimeType string `json:"mimeType"`
		Hashes   struct {
			QuickXor string `json:"quickXorHash"`
			SHA256   string `json:"sha256Hash"`
		} `json:"hashes"`
	} `json:"file"`
	Shared *struct {
		Scope string `json:"scope"`
	} `json:"shared"`
	CreatedBy      identitySet `json:"createdBy"`
	LastModifiedBy identitySet `json:"lastModifiedBy"`

	Raw json.RawMessage `json:"-"`
}

type identitySet struct {
	User struct {
		Email       string `json:"email"`
		DisplayName string `json:"displayName"`
	} `json:"user"`
}

func (s identitySet) String() string {
	if s.User.Email != "" {
		return s.User.Email
	}
	return s.User.DisplayName
}

func (it *driveItem) gone() bool   { return it.Removed != nil || it.Deleted != nil }
func (it *driveItem) isRoot() bool { return it.Root != nil }
func (it *driveItem) isFile() bool { return it.File != nil && it.Folder == nil }

// version is an element of /items/{id}/versions.
type version struct {
	ID       string `json:"id"`
	Size     int64  `json:"size"`
	Modified string `json:"lastModifiedDateTime"`
	Download string `json:"@microsoft.graph.downloadUrl"`
}
