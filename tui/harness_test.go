package tui_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/muesli/termenv"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/storage/vault"
	"github.com/strongroom/strongroom/tui"
	"github.com/strongroom/strongroom/tui/screens"
	"github.com/strongroom/strongroom/tui/styles"
)

var update = flag.Bool("update", false, "rewrite the golden screens in testdata/")

const (
	goodTenant = "8c3f6a8e-1f0b-4a7e-9a55-3b2f1c9d0e11"
	goodClient = "2b6e1d4c-7a9f-4e3b-8c1d-5f0a9e8b7c66"
	fakeKey    = "abcd-efgh-ijkl-mnop-qrst-uvwx-yz23-4567-abcd-efgh-ijkl-mnop-qrst-wxyz"
)

// fakeBackend is a setup.Backend that records what the wizard asked for
// and touches nothing.
type fakeBackend struct {
	mu           sync.Mutex
	disks        []setup.Disk
	missing      []string // roles TestTenant reports missing
	inits        [][]string
	adopts       [][]string
	commits      []setup.Plan
	discarded    []string
	formats      []setup.FormatRequest
	applied      []setup.NetworkPlan
	reverts      int
	netFail      error // ApplyNetwork's answer when set
	time         setup.TimeSync
	offsiteTests int
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{disks: []setup.Disk{
		{Name: "sdb", Device: "/dev/sdb", Path: "/srv/disk1", SizeBytes: 4000787030016, Model: "WDC WD40EFRX"},
		{Name: "sdc", Device: "/dev/sdc", Path: "/srv/disk2", SizeBytes: 4000787030016, Model: "WDC WD40EFRX"},
		{Name: "sdd", Device: "/dev/sdd", Path: "/srv/disk3", SizeBytes: 4000787030016, Model: "ST4000VN008"},
		{Name: "sde", Device: "/dev/sde", Path: "/srv/disk4", SizeBytes: 4000787030016, Model: "ST4000VN008"},
		{Name: "sdf", Device: "/dev/sdf", SizeBytes: 2000398934016, Model: "USB stick", Serial: "4C530001", Formattable: true,
			Problem: "blank: f formats it for the vault"},
		{Name: "sdg", Device: "/dev/sdg", SizeBytes: 2000398934016, Model: "ST2000DM008", Formattable: true,
			Contents: "ext4 file system labelled photos", Problem: "holds ext4 file system labelled photos: f erases and formats it"},
	}, time: setup.TimeSync{Answered: true, Synchronised: true, Authenticated: true, Server: "162.159.200.1", Stratum: 3, Ahead: 1200 * time.Microsecond,
		NTSSources: 2, NTSReachable: 2}}
}

// FormatDisk "formats" a listed disk as setup.System would: refused
// without the erase confirmation when it holds something; afterwards
// mounted, empty and usable.
func (f *fakeBackend) FormatDisk(_ context.Context, req setup.FormatRequest) (setup.Disk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.formats = append(f.formats, req)
	for i, d := range f.disks {
		if d.Device != req.Device {
			continue
		}
		if d.Contents != "" && !req.Erase {
			return setup.Disk{}, fmt.Errorf("%s holds %s: %w", d.Device, d.Contents, setup.ErrHoldsData)
		}
		n := len(f.formats)
		d.Label, d.Path = fmt.Sprintf("strongroom-data%d", n), fmt.Sprintf("/srv/strongroom/disk%d", n)
		d.Contents, d.Problem, d.Formattable = "", "", false
		f.disks[i] = d
		return d, nil
	}
	return setup.Disk{}, fmt.Errorf("%s is not offered as a data disk", req.Device)
}

func (f *fakeBackend) Network(context.Context) (setup.NetworkState, error) {
	return setup.NetworkState{
		Interfaces: []setup.Interface{
			{Name: "lo", State: "unknown", Addresses: []string{"127.0.0.1/8"}, Loopback: true},
			{Name: "eno1", State: "up", MAC: "52:54:00:12:34:56", Addresses: []string{"192.168.10.20/24"}},
			{Name: "eno2", State: "down", MAC: "52:54:00:12:34:57"},
		},
		Gateway: "192.168.10.1", GatewayDev: "eno1", DNS: []string{"192.168.10.1"},
	}, nil
}

// ApplyNetwork "applies" the plan: eno1 then carries the static address
// or a leased one.
func (f *fakeBackend) ApplyNetwork(ctx context.Context, p setup.NetworkPlan) (setup.NetworkState, error) {
	f.mu.Lock()
	f.applied = append(f.applied, p)
	fail := f.netFail
	f.mu.Unlock()
	st, _ := f.Network(ctx)
	if fail != nil {
		return st, fail
	}
	for i, x := range st.Interfaces {
		if x.Name != p.Interface {
			continue
		}
		if p.Mode == setup.DHCP {
			st.Interfaces[i].Addresses, st.Interfaces[i].DHCP = []string{"192.168.10.57/24"}, true
		} else {
			st.Interfaces[i].Addresses = []string{p.Address}
		}
	}
	return st, nil
}

// TimeSync is what chronyd would say: by default synchronised through NTS.
func (f *fakeBackend) TimeSync(context.Context) setup.TimeSync {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.time
}

func (f *fakeBackend) RevertNetwork(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reverts++
	return nil
}

func (f *fakeBackend) Disks(context.Context) ([]setup.Disk, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]setup.Disk(nil), f.disks...), nil
}

func (f *fakeBackend) SealsSecrets() bool { return false }

func (f *fakeBackend) PreviewLayout(n int) (setup.Preview, error) {
	l, w, err := vault.ChooseLayout(n)
	if err != nil {
		return setup.Preview{}, err
	}
	return setup.Preview{Layout: l.String(), K: l.K, M: l.M, Warning: w, Survives: fmt.Sprintf("survives the loss of any %d disk(s)", l.M)}, nil
}

func (f *fakeBackend) TestTenant(_ context.Context, t setup.Tenant) (setup.TenantCheck, error) {
	if t.ClientSecret == "wrong" {
		return setup.TenantCheck{}, errors.New("sign-in to the tenant failed: check tenant_id, client_id and the client secret")
	}
	return setup.TenantCheck{Held: []string{"Calendars.Read", "Contacts.Read", "Mail.Read", "User.Read.All"}, Missing: f.missing}, nil
}

func (f *fakeBackend) ImportConnection(path string) (setup.Tenant, error) {
	return setup.Tenant{TenantID: goodTenant, ClientID: goodClient, ClientSecret: "imported", GraphBaseURL: "https://127.0.0.1:8443/v1.0"}, nil
}

// TestOffsite accepts the bucket "locked" and refuses any other as having
// no Object Lock, as a real store's check would.
func (f *fakeBackend) TestOffsite(_ context.Context, o setup.Offsite) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.offsiteTests++
	if o.Bucket != "locked" {
		return errors.New("bucket " + o.Bucket + " has versioning \"off\" and Object Lock \"off\"; the copy needs both enabled")
	}
	return nil
}

func (f *fakeBackend) InitVault(_ context.Context, disks []string) (setup.VaultInit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inits = append(f.inits, disks)
	return setup.VaultInit{VaultID: "0123456789abcdef0123456789abcdef", Layout: "2+2", RecoveryKey: fakeKey}, nil
}

// AdoptVault accepts fakeKey for the vault of the disks' labels.
func (f *fakeBackend) AdoptVault(_ context.Context, disks []string, key string) (setup.VaultInit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.adopts = append(f.adopts, disks)
	if !strings.EqualFold(strings.TrimSpace(key), fakeKey) {
		return setup.VaultInit{}, errors.New("the key does not open vault 0badc0de: wrong key")
	}
	return setup.VaultInit{VaultID: "0badc0de0badc0de0badc0de0badc0de", Layout: "2+2", RecoveryKey: fakeKey}, nil
}

func (f *fakeBackend) DiscardVault(id string, disks []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.discarded = append(f.discarded, id)
	return nil
}

func (f *fakeBackend) Commit(_ context.Context, p setup.Plan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.commits = append(f.commits, p)
	return nil
}

// fakeService is the agent API with a fixed state.
type fakeService struct {
	mu      sync.Mutex
	status  api.Status
	calls   []string
	listing map[string][]api.Node
	snaps   []api.SnapshotSummary

	restores  []api.RestoreRequest
	replaced  [][2]string
	retention [][2]time.Duration
}

var fixedNow = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)

func newFakeService() *fakeService {
	s := &fakeService{status: api.Status{
		Now:       fixedNow,
		Interval:  4 * time.Hour,
		Retention: api.RetentionWindows{Rollback: 30 * 24 * time.Hour, Audit: 7 * 365 * 24 * time.Hour},
		Vault: api.VaultStatus{VaultID: "0123456789abcdef0123456789abcdef", Layout: "2+2", K: 2, M: 2, CapacityBytes: 8001574060032, UsedBytes: 52428800000,
			Snapshots: 42, Segments: 800, DedupRatio: 3.4,
			Disks: []api.DiskStatus{{Index: 0, Path: "/srv/disk1", Present: true, FreeBytes: 3900000000000}, {Index: 1, Path: "/srv/disk2", Present: true, FreeBytes: 3900000000000},
				{Index: 2, Path: "/srv/disk3", Present: true, FreeBytes: 3900000000000}, {Index: 3, Path: "/srv/disk4", Present: true, FreeBytes: 3900000000000}}},
		LastSuccess: &api.SnapshotSummary{ID: "20260314T060000Z-ab12", Created: fixedNow.Add(-3*time.Hour - 30*time.Minute), Items: 182340},
		LastRun:     &api.BackupReport{Result: "success", Protected: 48, NewItems: 1203},
		Coverage:    []api.Coverage{{Workload: "exchange", Noun: "mailboxes", All: 50, Protected: 48, Unprotected: []string{"new.hire@contoso.com", "temp.worker@contoso.com"}}},
		Job:         &api.JobStatus{Kind: "backup", UnitsDone: 12, UnitsAll: 50, Items: 3120},
		Alerts:      []string{"2 mailboxes unprotected"},
	}}
	s.status.Throttle.Requests, s.status.Throttle.Throttled = 51234, 17
	s.listing = map[string][]api.Node{
		"": {{Name: "anna@contoso.com", View: "anna@contoso.com", Items: 300, Bytes: 52000000}, {Name: "ben@contoso.com", View: "ben@contoso.com", Items: 120, Bytes: 8000000}},
		"anna@contoso.com": {{Name: "Mail", View: "anna@contoso.com/Mail", Items: 280, Bytes: 51000000},
			{Name: "Contacts", View: "anna@contoso.com/Contacts", Items: 20, Bytes: 1000000}},
	}
	s.listing["anna@contoso.com/Mail"] = []api.Node{{Name: "Inbox", View: "anna@contoso.com/Mail/Inbox", Items: 250, Bytes: 50000000}}
	s.listing["anna@contoso.com/Mail/Inbox"] = []api.Node{
		{Name: "Signed Contracts", View: "anna@contoso.com/Mail/Inbox/Signed Contracts", Items: 12, Bytes: 9000000},
		{Name: "Quarterly figures [AAMkAGI2TG].eml", View: "anna@contoso.com/Mail/Inbox/Quarterly figures [AAMkAGI2TG].eml", Items: 1, Bytes: 48000,
			Leaf: &api.Entry{Path: "users/u-anna/mail/m-AAMkAGI2TG", View: "anna@contoso.com/Mail/Inbox/Quarterly figures [AAMkAGI2TG].eml", Size: 48000}},
		// A subject with a slash (the catalog shows it as U+2215) and
		// characters the console font lacks.
		{Name: "Budget 2026\u2215Q1 \u2602 \u65e5\u672c [AAMkAGI3TH].eml", View: "anna@contoso.com/Mail/Inbox/Budget 2026\u2215Q1 \u2602 \u65e5\u672c [AAMkAGI3TH].eml", Items: 1, Bytes: 2000,
			Leaf: &api.Entry{Path: "users/u-anna/mail/m-AAMkAGI3TH", Size: 2000}},
	}
	// Listed oldest first, as the agent does; the browser shows the
	// newest first.
	for i := 3; i >= 0; i-- {
		at := fixedNow.Add(-3*time.Hour - 30*time.Minute - time.Duration(i)*4*time.Hour)
		s.snaps = append(s.snaps, api.SnapshotSummary{ID: fmt.Sprintf("%s-%02d", at.Format("20060102T150405Z"), i), Created: at,
			RetainUntil: at.Add(30 * 24 * time.Hour), Result: "success", Items: 182340 - int64(i)*100, Bytes: 52428800000})
	}
	s.snaps[0].Result = "partial"
	return s
}

func (s *fakeService) record(c string) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *fakeService) Calls() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.calls, ",")
}

func (s *fakeService) Status(context.Context) (*api.Status, error) {
	st := s.status
	return &st, nil
}

func (s *fakeService) Backup(context.Context, api.BackupRequest) (*api.BackupReport, error) {
	s.record("backup")
	return &api.BackupReport{Snapshot: "20260314T093000Z-cd34", Result: "success", Protected: 50, Items: 183000}, nil
}

func (s *fakeService) Snapshots(context.Context) ([]api.SnapshotSummary, error) {
	s.record("snapshots")
	return s.snaps, nil
}

func (s *fakeService) List(_ context.Context, snap, dir string) (string, []api.Node, error) {
	s.record("list:" + dir)
	if snap == "" {
		snap = "20260314T060000Z-ab12"
	}
	return snap, s.listing[dir], nil
}

func (s *fakeService) Restore(_ context.Context, req api.RestoreRequest) (*api.RestoreReport, error) {
	s.record("restore")
	s.mu.Lock()
	s.restores = append(s.restores, req)
	s.mu.Unlock()
	rep := &api.RestoreReport{Snapshot: req.Snapshot, Selected: 12, TargetUser: req.TargetUser, TargetFolder: req.TargetFolder}
	rep.Restored, rep.Skipped, rep.Failed = 9, 2, 1
	rep.Errors = []string{"Quarterly figures: 413 request entity too large"}
	return rep, nil
}

func (s *fakeService) Rollback(_ context.Context, req api.RollbackRequest) (*api.RollbackReport, error) {
	s.record(fmt.Sprintf("rollback:%s%s:%s:dry=%v", req.User, req.Site, req.Before.UTC().Format(time.RFC3339), req.DryRun))
	rep := &api.RollbackReport{User: req.User, Site: req.Site, Before: req.Before, Snapshot: "S-clean", SnapshotTime: fixedNow.Add(-4 * time.Hour), DryRun: req.DryRun,
		Restored: []string{"Docs/plan.docx", "Docs/budget.xlsx"}, Quarantined: []string{"README-RANSOM.txt"}, Unchanged: 40, Bytes: 3 << 20}
	if !req.DryRun {
		rep.QuarantineFolder = "Quarantine 2026-03-14 0930"
	}
	return rep, nil
}

func (s *fakeService) ReplaceDisk(_ context.Context, oldDir, newDir string) (*api.ScrubReport, error) {
	s.record("replace-disk")
	s.mu.Lock()
	s.replaced = append(s.replaced, [2]string{oldDir, newDir})
	s.mu.Unlock()
	return &api.ScrubReport{Segments: 800, Repaired: 800, Healthy: true}, nil
}

func (s *fakeService) SetRetention(_ context.Context, rollback, audit time.Duration) (*api.RetentionChange, error) {
	s.record("set-retention")
	s.mu.Lock()
	s.retention = append(s.retention, [2]time.Duration{rollback, audit})
	s.mu.Unlock()
	return &api.RetentionChange{Rollback: rollback, Audit: audit, Extended: 37}, nil
}

func (s *fakeService) RestoreTest(context.Context, int) (*api.RestoreTestReport, error) {
	s.record("restore-test")
	return &api.RestoreTestReport{OK: true, Items: 50}, nil
}

func (s *fakeService) Scrub(context.Context, bool) (*api.ScrubReport, error) {
	s.record("scrub")
	return &api.ScrubReport{Segments: 800, Healthy: true}, nil
}

func (s *fakeService) ConfirmClock(context.Context) error {
	s.record("confirm-clock")
	return nil
}

var _ screens.Service = (*fakeService)(nil)

// console is a model under test with its fakes. Views render with the
// plain-text profile, so they compare with golden files byte for byte.
type console struct {
	t     *testing.T
	m     *tui.Model
	be    *fakeBackend
	svc   *fakeService
	cfg   string // the configuration file's path
	quit  bool
	views []string // every screen rendered, for the glyph test
}

func newConsole(t *testing.T, configExists bool) *console {
	t.Helper()
	return newConsoleIn(t, configExists, termenv.Ascii)
}

// newConsoleIn renders with the given colour profile.
func newConsoleIn(t *testing.T, configExists bool, profile termenv.Profile) *console {
	t.Helper()
	return newConsoleWith(t, configExists, profile, nil)
}

// newConsoleWith lets prep change the fake agent's state before the
// console reads it.
func newConsoleWith(t *testing.T, configExists bool, profile termenv.Profile, prep func(*fakeService)) *console {
	t.Helper()
	return newConsoleOpts(t, configExists, profile, prep, nil)
}

// newConsoleOpts also lets opt change the console's options (an updater,
// a log) before it starts.
func newConsoleOpts(t *testing.T, configExists bool, profile termenv.Profile, prep func(*fakeService), opt func(*tui.Options)) *console {
	t.Helper()
	// A path that never exists keeps golden screens stable; the fake
	// backend writes nothing there.
	dir := "/nonexistent/strongroom"
	if configExists {
		dir = t.TempDir()
	}
	cfg := filepath.Join(dir, "strongroom.yaml")
	if configExists {
		os.WriteFile(cfg, []byte("tenant_id: x\n"), 0o600)
	}
	c := &console{t: t, be: newFakeBackend(), svc: newFakeService(), cfg: cfg}
	if prep != nil {
		prep(c.svc)
	}
	st := styles.New(styles.NewRenderer(os.Stdout, profile))
	o := tui.Options{ConfigPath: cfg, KeyFile: filepath.Join(dir, "recovery.key"), Setup: c.be, Styles: st,
		Open: func(string) (screens.Service, func() error, error) { return c.svc, func() error { return nil }, nil }}
	if opt != nil {
		opt(&o)
	}
	c.m = tui.New(o)
	c.run(c.m.Init())
	return c
}

// run executes a command and feeds its messages back through Update,
// until no command is left. Batches are expanded; quitting is recorded.
func (c *console) run(cmd tea.Cmd) {
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		cmd, queue = queue[0], queue[1:]
		if cmd == nil {
			continue
		}
		switch msg := cmd().(type) {
		case nil:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		case tea.QuitMsg:
			c.quit = true
		default:
			_, next := c.m.Update(msg)
			queue = append(queue, next)
		}
	}
	c.views = append(c.views, c.m.View())
}

// key sends keys by name ("enter", "esc", "down", " ") or, for anything
// longer than one rune that is not a name, types the text.
func (c *console) key(names ...string) *console {
	for _, n := range names {
		_, cmd := c.m.Update(keyMsg(n))
		c.run(cmd)
	}
	return c
}

// keyHolding sends a key and runs its commands except the first of a
// batch, which it returns unrun: an action the test lets "run" while it
// looks at the screen. run(held) finishes it.
func (c *console) keyHolding(name string) tea.Cmd {
	c.t.Helper()
	_, cmd := c.m.Update(keyMsg(name))
	if cmd == nil {
		c.t.Fatalf("%s started nothing; screen:\n%s", name, c.m.View())
	}
	batch, ok := cmd().(tea.BatchMsg)
	if !ok || len(batch) < 2 {
		c.t.Fatalf("%s did not start an action with a status refresh", name)
	}
	for _, rest := range batch[1:] {
		c.run(rest)
	}
	return batch[0]
}

// erase sends n backspaces.
func (c *console) erase(n int) *console {
	for range n {
		c.key("backspace")
	}
	return c
}

func (c *console) typ(text string) *console {
	for _, r := range text {
		_, cmd := c.m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
		c.run(cmd)
	}
	return c
}

func keyMsg(name string) tea.KeyMsg {
	switch name {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "left":
		return tea.KeyMsg{Type: tea.KeyLeft}
	case "right":
		return tea.KeyMsg{Type: tea.KeyRight}
	case "space":
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(name)}
}

func (c *console) step() screens.Step { return c.m.Wizard().Step() }

func (c *console) message() string {
	m, _ := c.m.Wizard().Message()
	return m
}

func (c *console) wantStep(s screens.Step) {
	c.t.Helper()
	if c.m.Wizard().Step() != s {
		c.t.Fatalf("at step %v, want %v; screen:\n%s", c.m.Wizard().Step(), s, c.m.View())
	}
}

// toSummary drives the wizard from the start to the summary with valid
// input: keep the network, choose four disks, type the tenant, test it,
// keep the default windows, no offsite copy.
func (c *console) toSummary() *console {
	c.t.Helper()
	c.toOffsite()
	c.key("enter", "enter")
	c.wantStep(screens.StepSummary)
	return c
}

// toOffsite drives the wizard to the offsite step as toSummary does.
func (c *console) toOffsite() *console {
	c.t.Helper()
	c.key("enter")
	c.wantStep(screens.StepDisks)
	c.key("space", "down", "space", "down", "space", "down", "space", "enter")
	c.wantStep(screens.StepTenant)
	c.typ(goodTenant).key("enter").typ(goodClient).key("enter").typ("s3cret").key("enter", "enter", "enter")
	c.wantStep(screens.StepSchedule)
	c.key("enter", "enter", "enter")
	c.wantStep(screens.StepOffsite)
	return c
}
