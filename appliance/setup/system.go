package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/sealed"
	"github.com/strongroom/strongroom/storage/durable"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// Environment variables System reads.
const (
	// DiskDirsEnv holds glob patterns of directories offered as disks
	// (tests and demos).
	DiskDirsEnv = "STRONGROOM_DISK_DIRS"
	// NetworkDirEnv overrides where the .network file is written.
	NetworkDirEnv = "STRONGROOM_NETWORK_DIR"
)

// System is the Backend of a real machine.
type System struct {
	// NetworkDir receives the systemd-networkd file. Default
	// DefaultNetworkDir.
	NetworkDir string
	// ApplyLive makes ApplyNetwork and RevertNetwork reload
	// systemd-networkd and wait for the result; NewSystem sets it when
	// NetworkDir is where networkd reads its files (not in tests and
	// demos, which point STRONGROOM_NETWORK_DIR elsewhere).
	ApplyLive bool
	// NetworkPolls and NetworkPollEvery bound ApplyNetwork's wait for new
	// settings to come up; zero means the defaults (a minute).
	NetworkPolls     int
	NetworkPollEvery time.Duration
	// SysNet is /sys/class/net; ResolvConf is /etc/resolv.conf.
	SysNet     string
	ResolvConf string
	// DiskDirs are glob patterns of directories offered as disks, in
	// addition to the block devices lsblk reports.
	DiskDirs string
	// NoBlockDevices leaves lsblk out (tests, demos).
	NoBlockDevices bool
	// LoopDevices are loop devices (/dev/loop3) offered as disks too
	// (tests).
	LoopDevices []string
	// MountRoot is where FormatDisk mounts data disks (diskN below it);
	// default DataMountRoot.
	MountRoot string
	// MountUnits makes FormatDisk mount through systemd's mount units for
	// the fstab entries of the data labels (the appliance) instead of
	// running mount itself; DataSlots is how many labels those entries
	// name (0: MaxDataDisks).
	MountUnits bool
	DataSlots  int
	// Run runs a command and returns its standard output; default
	// exec.CommandContext.
	Run func(ctx context.Context, name string, args ...string) ([]byte, error)
	// Seal, when set, seals the secrets Commit writes to the TPM instead of
	// writing them to files (its Dir is set beside the configuration);
	// NewSystem sets it on a machine with systemd and a TPM 2.0.
	Seal *sealed.Sealer

	mu      sync.Mutex
	prevNet *previousNetwork // what the last ApplyNetwork replaced
}

// DefaultNetworkDir is where systemd-networkd reads .network files.
const DefaultNetworkDir = "/etc/systemd/network"

// NewSystem returns a System configured from the environment.
func NewSystem() *System {
	s := &System{NetworkDir: DefaultNetworkDir, SysNet: "/sys/class/net", ResolvConf: "/etc/resolv.conf", DiskDirs: os.Getenv(DiskDirsEnv)}
	if d := os.Getenv(NetworkDirEnv); d != "" {
		s.NetworkDir = d
	}
	s.ApplyLive = s.NetworkDir == DefaultNetworkDir
	// Directory disks stand in for the machine's disks: offering both
	// would let a demo initialise a vault on the host's real disks.
	s.NoBlockDevices = s.DiskDirs != ""
	if b, err := os.ReadFile("/etc/fstab"); err == nil {
		_, err := os.Stat("/run/systemd/system")
		s.DataSlots = fstabDataSlots(b)
		s.MountUnits = err == nil && s.DataSlots > 0
	}
	if _, err := os.Stat("/run/systemd/system"); err == nil && s.DiskDirs == "" && sealed.TPM2("/sys") {
		s.Seal = &sealed.Sealer{}
	}
	return s
}

var _ Backend = (*System)(nil)

func (s *System) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	if s.Run != nil {
		return s.Run(ctx, name, args...)
	}
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return nil, fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

// Network implements Backend.
func (s *System) Network(ctx context.Context) (NetworkState, error) {
	var st NetworkState
	if out, err := s.run(ctx, "ip", "-j", "addr"); err == nil {
		if st.Interfaces, err = parseIPAddr(out); err != nil {
			return st, err
		}
	} else if st.Interfaces, err = sysInterfaces(s.SysNet); err != nil {
		return st, fmt.Errorf("list network interfaces: %w", err)
	}
	if out, err := s.run(ctx, "ip", "-j", "route", "show", "default"); err == nil {
		st.Gateway, st.GatewayDev, _ = parseDefaultRoute(out)
	}
	if b, err := os.ReadFile(s.ResolvConf); err == nil {
		st.DNS = parseResolvConf(b)
	}
	return st, nil
}

// Disks implements Backend.
func (s *System) Disks(ctx context.Context) ([]Disk, error) {
	var out []Disk
	if !s.NoBlockDevices {
		b, err := s.run(ctx, "lsblk", "-J", "-b", "-o", lsblkColumns)
		if err != nil {
			return nil, fmt.Errorf("list disks: %w", err)
		}
		if out, err = parseLsblkWith(b, s.LoopDevices); err != nil {
			return nil, err
		}
		if err := s.probeContents(ctx, out); err != nil {
			return nil, err
		}
	}
	dirs, err := dirDisks(s.DiskDirs)
	if err != nil {
		return nil, err
	}
	out = append(out, dirs...)
	markUsed(out)
	markDevices(out)
	return out, nil
}

// PreviewLayout implements Backend.
func (s *System) PreviewLayout(n int) (Preview, error) { return preview(n) }

// TestTenant implements Backend.
func (s *System) TestTenant(ctx context.Context, t Tenant) (TenantCheck, error) {
	c, err := graph.New(graph.Config{TenantID: t.TenantID, BaseURL: t.GraphBaseURL, AuthorityHost: t.AuthorityHost, CAFile: t.CAFile,
		App: graph.App{ClientID: t.ClientID, ClientSecret: t.ClientSecret}}, graph.GovernorOptions{})
	if err != nil {
		return TenantCheck{}, err
	}
	held, err := c.Roles(ctx)
	if err != nil {
		return TenantCheck{}, err
	}
	return TenantCheck{Held: held, Missing: graph.Missing(held, graph.BackupRoles)}, nil
}

// ImportConnection implements Backend.
func (s *System) ImportConnection(path string) (Tenant, error) {
	c, err := config.Load(path)
	if err != nil {
		return Tenant{}, err
	}
	return Tenant{TenantID: c.TenantID, ClientID: c.BackupApp.ClientID, ClientSecret: c.BackupApp.ClientSecret,
		GraphBaseURL: c.GraphBaseURL, AuthorityHost: c.AuthorityHost, CAFile: c.CAFile}, nil
}

// TestOffsite implements Backend.
func (s *System) TestOffsite(ctx context.Context, o Offsite) error { return testOffsite(ctx, o) }

// InitVault implements Backend.
func (s *System) InitVault(ctx context.Context, disks []string) (VaultInit, error) {
	res, err := vault.Init(disks)
	if err != nil {
		return VaultInit{}, err
	}
	if err := createLockFiles(disks); err != nil {
		return VaultInit{}, err
	}
	return VaultInit{VaultID: res.VaultID, Layout: res.Layout.String(), Warning: res.Warning, RecoveryKey: res.RecoveryKey.String()}, nil
}

// AdoptVault implements Backend.
func (s *System) AdoptVault(ctx context.Context, disks []string, recoveryKey string) (VaultInit, error) {
	rk, err := keys.ParseRecoveryKey(recoveryKey)
	if err != nil {
		return VaultInit{}, fmt.Errorf("that is not the recovery key: %w; type it as written down, with its dashes", err)
	}
	if len(disks) == 0 {
		return VaultInit{}, errors.New("no disks chosen")
	}
	label, err := readVaultLabel(disks[0])
	if err != nil {
		return VaultInit{}, err
	}
	c, err := vault.OpenCustody(disks, rk)
	if err != nil {
		return VaultInit{}, fmt.Errorf("the key does not open vault %s: %w", label.Short(), err)
	}
	init := VaultInit{VaultID: c.ID(), Layout: fmt.Sprintf("%d+%d", label.K, label.M), RecoveryKey: rk.String()}
	if m := c.Missing(); len(m) > 0 {
		init.Warning = fmt.Sprintf("%d of its disks are missing (%s): replace them from the status screen once it runs", len(m), strings.Join(m, ", "))
	}
	return init, nil
}

// createLockFiles makes the vault's lock file (the flock target,
// storage/FORMAT.md) on each disk now, so that Commit hands it to the
// agent's user with the rest. Left to the first opener, the warden (which
// starts before the agent) would create it as its own user, mode 0600, and
// the agent could never open it: seen on the appliance's first boot.
func createLockFiles(disks []string) error {
	for _, d := range disks {
		f, err := os.OpenFile(filepath.Join(d, vaultLockFile), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("create the vault lock file on %s: %w", d, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// DiscardVault implements Backend.
func (s *System) DiscardVault(vaultID string, disks []string) error {
	return discardVault(vaultID, disks)
}

// SealsSecrets implements Backend.
func (s *System) SealsSecrets() bool { return s.Seal != nil }

// Commit implements Backend.
func (s *System) Commit(ctx context.Context, p Plan) error {
	return commit(ctx, s.NetworkDir, s.Seal, p)
}

// commit writes the plan's files in the order that makes the
// configuration file the commit point: the key first (without it the
// vault is lost), then the network file, then the configuration. A crash
// before the last rename leaves no configuration, and the console runs
// the wizard again. With seal the secrets (the recovery key, the backup
// app's client secret, the offsite secret key) are sealed to the TPM
// beside the configuration, and the configuration names them as the
// units' credentials; without, they go to files (0600).
func commit(ctx context.Context, networkDir string, seal *sealed.Sealer, p Plan) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if _, err := keys.ParseRecoveryKey(p.RecoveryKey); err != nil {
		return fmt.Errorf("recovery key to write: %w", err)
	}
	if _, err := os.Stat(p.ConfigPath); err == nil {
		return fmt.Errorf("configuration %s already exists: setup writes a new one only", p.ConfigPath)
	}
	keyFile, app := p.KeyFile, graph.App{ClientID: p.Tenant.ClientID, ClientSecret: p.Tenant.ClientSecret}
	if seal != nil {
		beside := *seal
		beside.Dir = filepath.Join(filepath.Dir(p.ConfigPath), CredentialsDir)
		seal = &beside
		if err := seal.Seal(ctx, sealed.RecoveryKey, []byte(p.RecoveryKey+"\n")); err != nil {
			return err
		}
		if err := seal.Seal(ctx, sealed.BackupAppSecret, []byte(p.Tenant.ClientSecret)); err != nil {
			return err
		}
		keyFile, app = sealed.Ref(sealed.RecoveryKey), graph.App{ClientID: p.Tenant.ClientID, ClientSecretFile: sealed.Ref(sealed.BackupAppSecret)}
	} else {
		if err := os.MkdirAll(filepath.Dir(p.KeyFile), 0o700); err != nil {
			return fmt.Errorf("key directory: %w", err)
		}
		if err := durable.WriteFile(p.KeyFile, []byte(p.RecoveryKey+"\n"), 0o600); err != nil {
			return fmt.Errorf("write recovery key file: %w", err)
		}
	}
	if p.Network != nil {
		if _, err := WriteNetworkFile(networkDir, *p.Network); err != nil {
			return fmt.Errorf("write network configuration: %w", err)
		}
	}
	wardenDir := p.WardenDir
	if _, err := user.Lookup(WardenUser); err == nil && wardenDir == "" {
		wardenDir = config.ApplianceWardenDir
	}
	c := &config.Config{
		TenantID: p.Tenant.TenantID, GraphBaseURL: p.Tenant.GraphBaseURL, AuthorityHost: p.Tenant.AuthorityHost, CAFile: p.Tenant.CAFile,
		BackupApp: app,
		Vault:     config.Vault{Disks: p.Disks, KeyFile: keyFile, StateDir: p.StateDir, WardenDir: wardenDir},
		Schedule:  config.Schedule{Interval: config.Duration(p.Interval)},
		Retention: config.Retention{Rollback: config.Duration(p.Rollback), Audit: config.Duration(p.Audit)},
	}
	if p.Offsite != nil {
		sec, err := writeOffsite(ctx, *p.Offsite, p.ConfigPath, seal)
		if err != nil {
			return err
		}
		c.Offsite = sec
	}
	if err := c.Check(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(p.ConfigPath), 0o755); err != nil {
		return fmt.Errorf("configuration directory: %w", err)
	}
	// The console runs as root, the agent as its own unprivileged user:
	// everything setup created must belong to the agent's user, or the
	// agent cannot open the vault it is meant to fill.
	owner, hasOwner := serviceUser()
	if hasOwner {
		var paths []string
		if !p.Adopted {
			paths = append(paths, p.Disks...)
		}
		if seal == nil {
			paths = append(paths, p.KeyFile)
		}
		if p.StateDir != "" {
			paths = append(paths, p.StateDir)
		}
		for _, root := range paths {
			if err := chownTree(root, owner); err != nil {
				return fmt.Errorf("hand %s to the agent's user %s: %w", root, ServiceUser, err)
			}
		}
	}
	if err := c.Save(p.ConfigPath); err != nil {
		return fmt.Errorf("write configuration %s: %w", p.ConfigPath, err)
	}
	if hasOwner {
		if err := os.Lchown(p.ConfigPath, owner.uid, owner.gid); err != nil {
			return fmt.Errorf("hand %s to the agent's user %s: %w", p.ConfigPath, ServiceUser, err)
		}
	}
	return durable.SyncDir(filepath.Dir(p.ConfigPath))
}

// ServiceUser is the account the agent runs as on the appliance
// (systemd/strongroom.sysusers).
const ServiceUser = "strongroom"

// WardenUser is the account the warden runs as on the appliance
// (systemd/strongroom.sysusers); its state directory there is
// config.ApplianceWardenDir. Setup never hands it to the agent's user.
const WardenUser = "strongroom-warden"

type ids struct{ uid, gid int }

// serviceUser looks up the agent's account; on machines without it (a
// developer's), setup leaves ownership as it is.
func serviceUser() (ids, bool) { return lookupIDs(ServiceUser) }

// chownTree gives a file or a whole directory tree to owner.
func chownTree(root string, owner ids) error {
	return filepath.WalkDir(root, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, owner.uid, owner.gid)
	})
}

// BackupRoles are the read-only application permissions the backup app
// needs, as the wizard asks for them.
func BackupRoles() []string { return append([]string(nil), graph.BackupRoles...) }

// CredentialsDir is where, beside the configuration, Commit seals the
// secrets (sealed.DefaultDir on the appliance, where the units' lines
// LoadCredentialEncrypted= read them).
const CredentialsDir = "credentials"
