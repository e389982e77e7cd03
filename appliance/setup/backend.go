package setup

import (
	"context"
	"time"
)

// Backend is what the setup wizard needs from the machine. Methods may be
// called from any goroutine, but the wizard calls at most one at a time.
// Only ApplyNetwork, RevertNetwork, FormatDisk, InitVault, DiscardVault
// and Commit change anything on the machine.
type Backend interface {
	// Network reports the interfaces, addresses, default route and DNS
	// servers as the kernel and resolver see them now.
	Network(ctx context.Context) (NetworkState, error)
	// ApplyNetwork writes the plan's network file, has systemd-networkd
	// apply it and waits (up to a minute) until the interface carries the
	// settings, then returns the network as it is. When they do not come
	// up it puts the previous settings back itself and says so. KeepNetwork
	// changes nothing.
	ApplyNetwork(ctx context.Context, p NetworkPlan) (NetworkState, error)
	// RevertNetwork puts back the settings the last ApplyNetwork replaced
	// (the operator did not confirm them); without one it does nothing.
	RevertNetwork(ctx context.Context) error
	// Disks lists the disks the vault may use. The boot disk is never
	// among them.
	Disks(ctx context.Context) ([]Disk, error)
	// FormatDisk makes a data disk of a whole disk Disks offered as
	// Formattable: an ext4 file system labelled strongroom-dataN (the
	// lowest free N), mounted on its mount point. It refuses the boot
	// disk, partitions, mounted disks, and a disk holding a file system or
	// partition table unless the request confirms erasing it
	// (ErrHoldsData). It returns the disk as Disks would list it now.
	FormatDisk(ctx context.Context, req FormatRequest) (Disk, error)
	// PreviewLayout says which erasure layout n disks give, without
	// touching any disk.
	PreviewLayout(n int) (Preview, error)
	// TestTenant signs in as the backup app and reports the application
	// permissions it holds and the ones it lacks.
	TestTenant(ctx context.Context, t Tenant) (TenantCheck, error)
	// ImportConnection reads tenant connection details from a file written
	// by `strongroom tenant-sim --config-out` (or any configuration file).
	ImportConnection(path string) (Tenant, error)
	// TestOffsite reaches an offsite bucket with the given credentials and
	// checks that it has versioning and Object Lock, naming what to fix
	// when it does not.
	TestOffsite(ctx context.Context, o Offsite) error
	// InitVault creates a vault on the disk directories and returns it
	// with its recovery key. It is called at the final confirmation.
	InitVault(ctx context.Context, disks []string) (VaultInit, error)
	// DiscardVault undoes InitVault on disks that hold a vault nobody can
	// open yet (setup was interrupted before Commit). It removes only
	// what InitVault created for the vault vaultID.
	DiscardVault(vaultID string, disks []string) error
	// AdoptVault checks that recoveryKey opens the vault already on disks
	// (a box's disks moved to this one) and returns it as InitVault would,
	// with that key; Commit then uses it (Plan.Adopted).
	AdoptVault(ctx context.Context, disks []string, recoveryKey string) (VaultInit, error)
	// Commit writes the recovery key file, the network file (when the
	// plan changes the network), the offsite secret key file (when the
	// plan has an offsite copy) and, last, the configuration file. When
	// SealsSecrets, the recovery key and the secrets are sealed to the TPM
	// instead of written to files.
	Commit(ctx context.Context, p Plan) error
	// SealsSecrets reports whether Commit seals the secrets to the TPM.
	SealsSecrets() bool
}

// Tenant is the connection to a Microsoft 365 tenant: the backup app's
// credentials and, for a local simulator, its endpoints and CA.
type Tenant struct {
	TenantID     string
	ClientID     string
	ClientSecret string
	// GraphBaseURL, AuthorityHost and CAFile are empty for Microsoft's
	// cloud; a simulator's connection file sets them.
	GraphBaseURL  string
	AuthorityHost string
	CAFile        string
}

// TenantCheck is the outcome of a sign-in test.
type TenantCheck struct {
	Held    []string // application permissions the token carries
	Missing []string // permissions the backup needs and the app lacks
}

// Preview describes the layout a number of disks would get.
type Preview struct {
	Layout   string // "2+2"
	K, M     int    // data and parity shards
	Warning  string // set for 1 to 3 disks, and by On for disks sharing a device
	Survives string // "survives the loss of any 2 disks"
	// Usable is the capacity for backups on the chosen disks; set by On.
	Usable uint64
}

// UsableBytes is the capacity for backups that a layout gives on disks of
// the given sizes: every disk holds one shard of each segment, so the
// smallest disk bounds them all.
func (p Preview) UsableBytes(sizes []uint64) uint64 {
	if len(sizes) == 0 || p.K == 0 {
		return 0
	}
	smallest := sizes[0]
	for _, s := range sizes[1:] {
		smallest = min(smallest, s)
	}
	return smallest * uint64(p.K)
}

// VaultInit is a freshly created vault.
type VaultInit struct {
	VaultID     string
	Layout      string
	Warning     string
	RecoveryKey string // shown to the operator once, then written by Commit
}

// Plan is everything the wizard collected. Commit turns it into files.
type Plan struct {
	// ConfigPath is the configuration file to create.
	ConfigPath string
	// KeyFile is where the recovery key is written (mode 0600).
	KeyFile string
	// StateDir is the vault's state directory; empty means the default
	// (state/ on the first disk).
	StateDir string
	// WardenDir is the warden's state directory; empty means
	// config.ApplianceWardenDir where the warden's user exists (the appliance),
	// else the default (warden/ in the state directory).
	WardenDir string
	// Network is the network change; nil or Mode KeepNetwork changes
	// nothing.
	Network *NetworkPlan
	// Disks are the vault's disk directories.
	Disks       []string
	RecoveryKey string
	Tenant      Tenant
	Interval    time.Duration
	Rollback    time.Duration
	Audit       time.Duration
	// Offsite is the offsite copy; nil sets up none.
	Offsite *Offsite
	// Adopted is set when the disks carry a vault already (AdoptVault):
	// its files stay as they are, owned by the agent's user of the box
	// that wrote them, sealed ones immutable.
	Adopted bool
}
