// Package config reads and checks the agent's configuration file (YAML).
//
// The file the tenant simulator writes with --config-out is a valid
// configuration as it is; a vault section and schedule are added for a real
// box by the console's setup wizard. Relative paths are taken relative to
// the file's directory. Secrets are never printed: String and the JSON form
// redact them.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/sealed"
	"github.com/strongroom/strongroom/appliance/units"
)

// Config is the whole configuration file.
//
//	tenant_id: 00000000-0000-0000-0000-000000000000
//	graph_base_url: https://graph.microsoft.com/v1.0   # default
//	authority_host: https://login.microsoftonline.com/ # default
//	ca_file: ""                                          # extra CA (the simulator's)
//	backup_app: {client_id: ..., client_secret: ...}     # or certificate_file
//	restore_app: {client_id: ..., client_secret: ...}    # optional
//	vault: {disks: [/srv/disk1, ...], key_file: /etc/strongroom/recovery.key, state_dir: /var/lib/strongroom}
//	schedule: {interval: 4h, restore_test_interval: 24h, scrub_interval: 168h}
//	retention: {rollback: 30d, audit: 7y}
//	workers: 8
//	users: []            # empty: every mailbox of the tenant
//	metrics_listen: 127.0.0.1:9464
//	api_socket: /run/strongroom/agent.sock
type Config struct {
	TenantID      string     `yaml:"tenant_id"`
	GraphBaseURL  string     `yaml:"graph_base_url,omitempty"`
	AuthorityHost string     `yaml:"authority_host,omitempty"`
	CAFile        string     `yaml:"ca_file,omitempty"`
	BackupApp     graph.App  `yaml:"backup_app"`
	RestoreApp    *graph.App `yaml:"restore_app,omitempty"`
	Vault         Vault      `yaml:"vault"`
	Schedule      Schedule   `yaml:"schedule"`
	Retention     Retention  `yaml:"retention"`
	Workers       int        `yaml:"workers,omitempty"`
	// ResourceUnits is the tenant's OneDrive and SharePoint budget per
	// minute that the agent paces itself to (Microsoft's table by licence
	// count; default 1,250, its smallest tier); -1 turns pacing off.
	ResourceUnits int      `yaml:"resource_units_per_minute,omitempty"`
	Users         []string `yaml:"users,omitempty"`
	MetricsListen string   `yaml:"metrics_listen,omitempty"`
	APISocket     string   `yaml:"api_socket,omitempty"`
	// Offsite, when set, is where strongroom-offsite.service copies the
	// vault (an S3 bucket with Object Lock). The agent reads only its
	// state_dir (the published status), never the secret key file.
	Offsite *Offsite `yaml:"offsite,omitempty"`

	path string
}

// Vault says where the vault's disks and key are.
type Vault struct {
	Disks    []string `yaml:"disks"`
	KeyFile  string   `yaml:"key_file"`
	StateDir string   `yaml:"state_dir,omitempty"`
	// WardenDir is the warden's state directory (trusted clock, ledger,
	// status); the agent only reads the clock and status there.
	WardenDir string `yaml:"warden_dir,omitempty"`
}

// Offsite is the offsite copy's section: an S3-compatible bucket with
// versioning and Object Lock (AWS S3, MinIO, Ceph RGW, versitygw).
type Offsite struct {
	Endpoint  string `yaml:"endpoint"`
	Bucket    string `yaml:"bucket"`
	Region    string `yaml:"region,omitempty"`
	AccessKey string `yaml:"access_key"`
	// SecretKeyFile holds the secret key (0600, the offsite user's); the
	// agent never reads it.
	SecretKeyFile string `yaml:"secret_key_file"`
	// PathStyle: bucket in the path (MinIO, Ceph, versitygw) instead of
	// the host name (AWS).
	PathStyle bool   `yaml:"path_style,omitempty"`
	CAFile    string `yaml:"ca_file,omitempty"`
	Prefix    string `yaml:"prefix,omitempty"`
	// BandwidthLimit is bytes a second ("20MB"); empty: no limit.
	BandwidthLimit string `yaml:"bandwidth_limit,omitempty"`
	// Interval is the time between copies (default 1h).
	Interval Duration `yaml:"interval,omitempty"`
	// StateDir holds the copier's published status (status.json).
	StateDir string `yaml:"state_dir,omitempty"`
	// Addrs, set by the service from 'offsite allow-endpoint', are the
	// only addresses the endpoint is reached at; never read from the file.
	Addrs []string `yaml:"-"`
}

// DefaultOffsiteInterval is the time between offsite copies.
const DefaultOffsiteInterval = time.Hour

// ApplianceOffsiteDir is the offsite copier's state directory on the
// appliance (strongroom-offsite.service).
const ApplianceOffsiteDir = "/var/lib/strongroom-offsite"

// Schedule says how often the agent works.
type Schedule struct {
	Interval            Duration `yaml:"interval,omitempty"`
	RestoreTestInterval Duration `yaml:"restore_test_interval,omitempty"`
	ScrubInterval       Duration `yaml:"scrub_interval,omitempty"`
}

// Retention is the two windows of the brief: every restore point is kept
// for Rollback; the first restore point of each calendar month is kept for
// Audit. Both are retention locks: nobody can shorten them afterwards.
type Retention struct {
	Rollback Duration `yaml:"rollback,omitempty"`
	Audit    Duration `yaml:"audit,omitempty"`
}

// Duration is a time.Duration that also reads days ("30d") and years
// ("7y" = 7×365 days) in YAML.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := units.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Go form.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Defaults.
const (
	DefaultInterval    = 4 * time.Hour
	DefaultRestoreTest = 24 * time.Hour
	DefaultScrub       = 7 * 24 * time.Hour
	DefaultRollback    = 30 * 24 * time.Hour
	DefaultAudit       = 7 * 365 * 24 * time.Hour
	DefaultWorkers     = 8
	// DefaultResourceUnits is Microsoft's smallest tenant tier of OneDrive
	// and SharePoint resource units per app per minute.
	DefaultResourceUnits = 1250
	DefaultMetrics       = "127.0.0.1:9464"
	DefaultSocket        = "/run/strongroom/agent.sock"
)

// Load reads, defaults and checks the configuration file of the agent:
// every key must be one the agent knows and Check must pass. Errors name
// the file.
func Load(path string) (*Config, error) {
	c, err := read(path, true)
	if err != nil {
		return nil, err
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	return c, nil
}

// Read reads the configuration file for a role that needs only part of it
// (the vault and warden commands, the console's retention form): keys it
// does not know are ignored, as are sections left incomplete, and nothing
// is checked. Relative paths are resolved and defaults applied as Load
// does; errors name the file.
func Read(path string) (*Config, error) { return read(path, false) }

// read decodes the file at path (with strict, every key must be known),
// resolves relative paths against its directory and applies the defaults.
// An empty file is an empty configuration.
func read(path string, strict bool) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(strict)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("configuration %s: %w (see the example in README.md)", path, err)
	}
	c.path = path
	c.resolve(filepath.Dir(path))
	c.defaults()
	return &c, nil
}

func (c *Config) resolve(base string) {
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	// A secret sealed to the appliance's TPM is named by its place in the
	// unit's credentials directory (sealed.Ref), absolute once expanded.
	secret := func(p string) string {
		if p = sealed.Expand(p); sealed.IsCredential(p) {
			return p
		}
		return rel(p)
	}
	c.CAFile = rel(c.CAFile)
	for _, app := range []*graph.App{&c.BackupApp, c.RestoreApp} {
		if app != nil {
			app.CertificateFile, app.ClientSecretFile = secret(app.CertificateFile), secret(app.ClientSecretFile)
		}
	}
	for i, d := range c.Vault.Disks {
		c.Vault.Disks[i] = rel(d)
	}
	c.Vault.KeyFile = secret(c.Vault.KeyFile)
	c.Vault.StateDir = rel(c.Vault.StateDir)
	c.Vault.WardenDir = rel(c.Vault.WardenDir)
	if c.APISocket != "" {
		c.APISocket = rel(c.APISocket)
	}
	if o := c.Offsite; o != nil {
		o.SecretKeyFile, o.CAFile, o.StateDir = secret(o.SecretKeyFile), rel(o.CAFile), rel(o.StateDir)
	}
}

// ApplianceWardenDir is the warden's state directory on the appliance
// (strongroom-warden.service). A configuration that names none, written
// before the warden had its own directory, uses it where it exists.
const ApplianceWardenDir = "/var/lib/strongroom-warden"

// WardenDirOr returns configured, or ApplianceWardenDir when configured is
// empty and that directory exists (an appliance set up by an older image),
// or "" (the vault's default beside its state).
func WardenDirOr(configured string) string {
	if configured != "" {
		return configured
	}
	if st, err := os.Stat(ApplianceWardenDir); err == nil && st.IsDir() {
		return ApplianceWardenDir
	}
	return ""
}

func (c *Config) defaults() {
	c.Vault.WardenDir = WardenDirOr(c.Vault.WardenDir)
	if c.Schedule.Interval == 0 {
		c.Schedule.Interval = Duration(DefaultInterval)
	}
	if c.Schedule.RestoreTestInterval == 0 {
		c.Schedule.RestoreTestInterval = Duration(DefaultRestoreTest)
	}
	if c.Schedule.ScrubInterval == 0 {
		c.Schedule.ScrubInterval = Duration(DefaultScrub)
	}
	if c.Retention.Rollback == 0 {
		c.Retention.Rollback = Duration(DefaultRollback)
	}
	if c.Retention.Audit == 0 {
		c.Retention.Audit = Duration(DefaultAudit)
	}
	if c.ResourceUnits == 0 {
		c.ResourceUnits = DefaultResourceUnits
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	if c.MetricsListen == "" {
		c.MetricsListen = DefaultMetrics
	}
	if c.APISocket == "" {
		c.APISocket = DefaultSocket
	}
	if o := c.Offsite; o != nil {
		if o.Interval == 0 {
			o.Interval = Duration(DefaultOffsiteInterval)
		}
		if o.StateDir == "" {
			o.StateDir = ApplianceOffsiteDir
		}
	}
}

// Check reports the first problem that would stop the agent, naming the
// setting to change.
func (c *Config) Check() error {
	var errs []string
	if c.TenantID == "" {
		errs = append(errs, "tenant_id is missing (the Directory (tenant) ID of your Microsoft 365 tenant)")
	}
	if c.BackupApp.ClientID == "" {
		errs = append(errs, "backup_app.client_id is missing (the Application (client) ID of the backup app registration)")
	}
	if !c.BackupApp.HasSecret() {
		errs = append(errs, "backup_app needs client_secret, client_secret_file or certificate_file")
	}
	if c.Retention.Audit < c.Retention.Rollback {
		errs = append(errs, "retention.audit must be at least retention.rollback")
	}
	if c.Schedule.Interval.D() < time.Minute {
		errs = append(errs, "schedule.interval must be at least 1m")
	}
	if o := c.Offsite; o != nil {
		if o.Endpoint == "" || o.Bucket == "" || o.AccessKey == "" || o.SecretKeyFile == "" {
			errs = append(errs, "offsite needs endpoint, bucket, access_key and secret_key_file")
		}
		if _, err := units.ParseBytes(o.BandwidthLimit); o.BandwidthLimit != "" && err != nil {
			errs = append(errs, "offsite.bandwidth_limit: "+err.Error())
		}
		if o.Interval.D() < time.Minute {
			errs = append(errs, "offsite.interval must be at least 1m")
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// Path is the file the configuration was loaded from.
func (c *Config) Path() string { return c.path }

// GraphConfig returns the Graph client settings for the backup app, or for
// the restore app when restore is true and one is configured.
func (c *Config) GraphConfig(restore bool) graph.Config {
	app := c.BackupApp
	if restore && c.RestoreApp != nil {
		app = *c.RestoreApp
	}
	return graph.Config{TenantID: c.TenantID, BaseURL: c.GraphBaseURL, AuthorityHost: c.AuthorityHost, CAFile: c.CAFile, App: app}
}

// Save writes the configuration atomically with mode 0600 (it holds
// secrets).
func (c *Config) Save(path string) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	f, err := os.Open(tmp)
	if err == nil {
		f.Sync()
		f.Close()
	}
	return os.Rename(tmp, path)
}

// RetainUntil is when a restore point created at t, which is the first of
// its calendar month when firstOfMonth, may expire.
func (r Retention) RetainUntil(t time.Time, firstOfMonth bool) time.Time {
	if firstOfMonth {
		return t.Add(r.Audit.D())
	}
	return t.Add(r.Rollback.D())
}
