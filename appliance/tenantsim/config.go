package tenantsim

import (
	"fmt"
	"net/http"
	"time"
)

// Config describes the tenant a Sim generates and how it behaves. The zero
// value is usable: New fills every unset field from DefaultProfile, with
// throttling off and no faults.
type Config struct {
	// Users is the number of user accounts generated. Default 5.
	Users int
	// Seed makes generation deterministic: the same Seed, Users and Profile
	// give byte-identical mailboxes, ids and MIME.
	Seed int64
	// TenantID overrides the generated tenant id (a GUID).
	TenantID string
	// Profile sets item counts and sizes.
	Profile Profile
	// Throttle sets the per-mailbox limits.
	Throttle Throttle
	// Faults sets the injected failures. They can be changed later with
	// SetFaults or POST /_sim/faults.
	Faults Faults
	// PublicHost is the host name or IP address clients use to reach the
	// simulator, when it is not 127.0.0.1: the base URL and the identity
	// endpoints name it, and the server certificate covers it (a QEMU
	// guest reaches the host's loopback as 10.0.2.2).
	PublicHost string
	// DownloadHost is the host name in pre-authenticated download URLs
	// (the 302 of .../content and @microsoft.graph.downloadUrl), served
	// on a second port. Graph serves content from another host than
	// graph.microsoft.com; the default is "localhost" when clients reach
	// the simulator at 127.0.0.1, else PublicHost (then only the port
	// differs). The server certificate covers it.
	DownloadHost string
	// TokenLifetime is how long an issued access token stays valid.
	// Default one hour.
	TokenLifetime time.Duration
	// Now is the clock used for token expiry and throttle windows; default
	// time.Now. Generated content never reads it: timestamps in the tenant
	// derive from the seed.
	Now func() time.Time
	// ExtraBackupRoles are application permissions granted to the
	// backup app besides its read-only ones, e.g. Sites.FullControl.All,
	// which Graph requires to read a site's application permissions.
	ExtraBackupRoles []string
	// ExtraRestoreRoles are granted to the restore app besides its
	// default ones, e.g. TeamMember.ReadWrite.All, which adding a team's
	// members back takes.
	ExtraRestoreRoles []string
	// OnRequest, when set, is called once a request has been answered,
	// with the request, its endpoint class (as Counters names it), its
	// status and the wall-clock times it began and ended: a benchmark in
	// the same process learns when each workload's requests ran. It must
	// be quick, safe for concurrent use, and not keep r.
	OnRequest func(r *http.Request, class string, status int, start, end time.Time)
}

// Profile sets how much content each generated mailbox holds. Counts are
// per licensed user; sizes are in bytes.
type Profile struct {
	// MessagesPerUser is the number of mails spread over the folders.
	MessagesPerUser int
	// ExtraFolders is the number of user-made folders besides the
	// well-known ones and "Signed Contracts"; they nest up to FolderDepth.
	ExtraFolders int
	// FolderDepth is the deepest nesting of user-made folders.
	FolderDepth int
	// AttachmentRatio is the fraction of mails that carry attachments.
	AttachmentRatio float64
	// LargeAttachmentBytes caps the largest attachment; a few mails carry
	// one between a quarter of this and this size.
	LargeAttachmentBytes int
	// ContactsPerUser is the number of contacts, spread over the default
	// contact folder and one extra folder.
	ContactsPerUser int
	// EventsPerUser is the number of events in the default calendar; about
	// one in five is a weekly recurring series.
	EventsPerUser int
	// FilesPerUser is the number of files in each OneDrive and in each
	// site's document library; Office files carry up to 12 versions.
	FilesPerUser int
	// ChannelMessages is the number of extra threads posted into every
	// channel of every team, each with ChannelReplies replies, to make
	// busy channels (benchmarks of the Teams limits). 0, the default,
	// adds none: the tenant is then what it was without them.
	ChannelMessages int
	ChannelReplies  int
}

// DefaultProfile is small enough for unit tests and still exercises paging,
// nesting and attachments.
var DefaultProfile = Profile{
	MessagesPerUser:      40,
	ExtraFolders:         4,
	FolderDepth:          3,
	AttachmentRatio:      0.3,
	LargeAttachmentBytes: 1 << 20,
	ContactsPerUser:      12,
	EventsPerUser:        10,
	FilesPerUser:         20,
}

// ThrottleMode names a throttling profile.
type ThrottleMode string

// Throttle modes. Off serves everything; Realistic follows the published
// Exchange limits (4 concurrent requests and 10,000 requests per 10
// minutes per mailbox); Strict is far tighter so that tests can provoke 429
// cheaply.
const (
	ThrottleOff       ThrottleMode = "off"
	ThrottleRealistic ThrottleMode = "realistic"
	ThrottleStrict    ThrottleMode = "strict"
)

// Throttle sets per-mailbox limits. A non-zero field overrides the value
// the Mode implies.
type Throttle struct {
	Mode ThrottleMode
	// Concurrent is the most requests one mailbox may have in flight.
	Concurrent int
	// Requests is the most requests one mailbox may make per Window.
	Requests int
	// Window is the length of the request-count window.
	Window time.Duration
	// RetryAfter is the value sent in the Retry-After header, rounded up
	// to whole seconds. Default one second.
	RetryAfter time.Duration
	// ResourceUnits is the most SharePoint and OneDrive resource units the
	// tenant may spend per minute on file and site routes: 1 for a single
	// item, its content or a delta page with a token, 2 for a listing, an
	// initial delta or a write.
	ResourceUnits int
	// TeamsPerSecond is the most Teams requests the tenant may make per
	// second.
	TeamsPerSecond int
}

// resolve returns the effective limits; zero limits mean unlimited.
func (t Throttle) resolve() (Throttle, error) {
	r := t
	switch t.Mode {
	case "", ThrottleOff:
		r.Mode = ThrottleOff
		return r, nil
	case ThrottleRealistic:
		r.Concurrent, r.Requests, r.Window = 4, 10000, 10*time.Minute
		r.ResourceUnits, r.TeamsPerSecond = 1250, 20
	case ThrottleStrict:
		r.Concurrent, r.Requests, r.Window = 2, 50, time.Minute
		r.ResourceUnits, r.TeamsPerSecond = 100, 4
	default:
		return r, fmt.Errorf("throttle mode %q: want off, realistic or strict", t.Mode)
	}
	if t.Concurrent > 0 {
		r.Concurrent = t.Concurrent
	}
	if t.Requests > 0 {
		r.Requests = t.Requests
	}
	if t.Window > 0 {
		r.Window = t.Window
	}
	if t.ResourceUnits > 0 {
		r.ResourceUnits = t.ResourceUnits
	}
	if t.TeamsPerSecond > 0 {
		r.TeamsPerSecond = t.TeamsPerSecond
	}
	if r.RetryAfter <= 0 {
		r.RetryAfter = time.Second
	}
	return r, nil
}

// Faults switches injected failures on. Every rate is a probability per
// Graph request in [0,1], drawn from a generator seeded by Config.Seed, so
// a run with the same requests in the same order sees the same faults.
// Identity endpoints and /_sim/ are never faulted.
type Faults struct {
	// ServerErrorRate starts a burst of 503/504 answers.
	ServerErrorRate float64 `json:"server_error_rate,omitempty"`
	// ServerErrorBurst is how many consecutive requests a burst fails.
	// Default 3.
	ServerErrorBurst int `json:"server_error_burst,omitempty"`
	// SlowRate delays a response by SlowDelay.
	SlowRate  float64       `json:"slow_rate,omitempty"`
	SlowDelay time.Duration `json:"slow_delay,omitempty"`
	// TruncateRate sends a full Content-Length and then only half of the
	// body before dropping the connection.
	TruncateRate float64 `json:"truncate_rate,omitempty"`
	// ResetRate drops the connection with a TCP reset before answering.
	ResetRate float64 `json:"reset_rate,omitempty"`
	// CorruptContent injects hash mismatches: downloads of the file items
	// named by id serve a corrupted body (one byte flipped, same length)
	// while the item's metadata keeps the true hashes. The value is how
	// many downloads of that item to corrupt; a negative value corrupts
	// every one. Faults reports the downloads still to corrupt.
	CorruptContent map[string]int `json:"corrupt_content,omitempty"`
	// ExpireTokens, when true, makes every token issued before this
	// moment invalid (401), as if it had expired mid-run. It is a one-shot
	// action: SetFaults applies it and does not keep it set.
	ExpireTokens bool `json:"expire_tokens,omitempty"`
}

func (f Faults) validate() error {
	for name, r := range map[string]float64{
		"server_error_rate": f.ServerErrorRate, "slow_rate": f.SlowRate,
		"truncate_rate": f.TruncateRate, "reset_rate": f.ResetRate,
	} {
		if r < 0 || r > 1 {
			return fmt.Errorf("fault %s %v: want a probability between 0 and 1", name, r)
		}
	}
	if f.ServerErrorBurst < 0 || f.SlowDelay < 0 {
		return fmt.Errorf("fault burst and delay must not be negative")
	}
	return nil
}

// orDefault sets *v to d when *v is zero or negative.
func orDefault[T int | float64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

func (c Config) withDefaults() (Config, error) {
	orDefault(&c.Users, 5)
	p, d := &c.Profile, DefaultProfile
	orDefault(&p.MessagesPerUser, d.MessagesPerUser)
	orDefault(&p.ExtraFolders, d.ExtraFolders)
	orDefault(&p.FolderDepth, d.FolderDepth)
	orDefault(&p.AttachmentRatio, d.AttachmentRatio)
	orDefault(&p.LargeAttachmentBytes, d.LargeAttachmentBytes)
	orDefault(&p.ContactsPerUser, d.ContactsPerUser)
	orDefault(&p.EventsPerUser, d.EventsPerUser)
	orDefault(&p.FilesPerUser, d.FilesPerUser)
	orDefault(&c.TokenLifetime, time.Hour)
	if c.DownloadHost == "" {
		c.DownloadHost = "localhost"
		if c.PublicHost != "" {
			c.DownloadHost = c.PublicHost
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if p.ChannelMessages < 0 || p.ChannelReplies < 0 || p.ChannelMessages > maxBusyThreads || p.ChannelReplies > maxBusyReplies {
		return c, fmt.Errorf("channel messages %d and replies %d per thread: want 0 to %d and 0 to %d", p.ChannelMessages, p.ChannelReplies, maxBusyThreads, maxBusyReplies)
	}
	if c.Faults.ServerErrorBurst == 0 {
		c.Faults.ServerErrorBurst = 3
	}
	if err := c.Faults.validate(); err != nil {
		return c, err
	}
	t, err := c.Throttle.resolve()
	if err != nil {
		return c, err
	}
	c.Throttle = t
	return c, nil
}
