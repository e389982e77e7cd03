package tui_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// tmuxSession drives one program in a private tmux server at 80x25.
type tmuxSession struct {
	t      *testing.T
	socket string
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", s.socket}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-t", "console") }

// keys sends tmux key names (Enter, Space, Up, ...).
func (s *tmuxSession) keys(names ...string) {
	s.tmux(append([]string{"send-keys", "-t", "console"}, names...)...)
}

// text types literal text.
func (s *tmuxSession) text(t string) { s.tmux("send-keys", "-t", "console", "-l", t) }

// waitFor polls the screen until it shows every string, or fails after a
// bounded deadline with the last screen.
func (s *tmuxSession) waitFor(what ...string) string {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		scr := s.screen()
		ok := true
		for _, w := range what {
			ok = ok && strings.Contains(scr, w)
		}
		if ok {
			return scr
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("screen never showed %q; last screen:\n%s", what, scr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var shownKey = regexp.MustCompile(`\b(?:[a-z2-7]{4}-){13}[a-z2-7]{4}\b`)

// TestConsoleEndToEndInTmux runs the real binary's setup wizard on a
// TERM=linux terminal of 80x25 against the tenant simulator, through to
// the status screen, and checks the result opens as a vault.
func TestConsoleEndToEndInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("STRONGROOM_REQUIRE_TMUX") != "" {
			t.Fatal("tmux is required (STRONGROOM_REQUIRE_TMUX is set) but not installed: run make deps")
		}
		t.Skip("tmux not installed; make test installs it and sets STRONGROOM_REQUIRE_TMUX")
	}
	if testing.Short() {
		t.Skip("builds the binary and runs a simulator")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "strongroom")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/strongroom/strongroom/appliance/cmd/strongroom").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	simCfg := filepath.Join(dir, "sim.yaml")
	sim := exec.Command(bin, "tenant-sim", "--listen", "127.0.0.1:0", "--users", "3", "--config-out", simCfg)
	simLog, _ := os.Create(filepath.Join(dir, "sim.log"))
	sim.Stdout, sim.Stderr = simLog, simLog
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sim.Process.Kill()
		sim.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(simCfg); err == nil && strings.Contains(string(b), "restore_app") {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(simLog.Name())
			t.Fatalf("tenant-sim wrote no %s:\n%s", simCfg, log)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The update service the console asks, as on the appliance; here,
	// outside an appliance image, it answers that it is not one. The
	// console talks only to a service that runs as root.
	updSock := filepath.Join(dir, "update.sock")
	if os.Geteuid() == 0 {
		upd := exec.Command(bin, "update", "serve", "--socket", updSock)
		updLog, _ := os.Create(filepath.Join(dir, "update.log"))
		upd.Stdout, upd.Stderr = updLog, updLog
		if err := upd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			upd.Process.Kill()
			upd.Wait()
		})
	}

	var disks []string
	for i := 1; i <= 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("disk%d", i))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	cfgPath := filepath.Join(dir, "etc", "strongroom.yaml")
	command := fmt.Sprintf("env TERM=linux STRONGROOM_DISK_DIRS=%s STRONGROOM_NETWORK_DIR=%s %s console --config %s --update-socket %s; echo console exited $?; sleep 60",
		filepath.Join(dir, "disk*"), filepath.Join(dir, "network"), bin, cfgPath, updSock)
	// The socket is private to this process: two test runs at once (CI
	// and a developer, two worktrees) must not share a tmux server.
	s := &tmuxSession{t: t, socket: fmt.Sprintf("strongroom-test-%d-%s", os.Getpid(), filepath.Base(dir))}
	s.tmux("new-session", "-d", "-s", "console", "-x", "80", "-y", "25", command)
	t.Cleanup(func() { exec.Command("tmux", "-L", s.socket, "kill-server").Run() })

	s.waitFor("step 1 of 7", "Check:")
	s.keys("Enter")
	s.waitFor("step 2 of 7", "disk4")
	s.keys("Space", "Down", "Space", "Down", "Space", "Down", "Space")
	s.waitFor("4 disks chosen: layout 2+2")
	s.keys("Enter")
	s.waitFor("step 3 of 7")
	s.keys("Up")
	s.text(simCfg)
	s.keys("Enter")
	s.waitFor("Connection details imported")
	s.keys("Enter")
	s.waitFor("every permission the backup needs", "Missing: none")
	s.keys("Enter")
	s.waitFor("step 4 of 7")
	s.keys("Enter", "Enter", "Enter")
	s.waitFor("step 5 of 7", "Offsite: none")
	s.keys("Enter", "Enter")
	s.waitFor("step 6 of 7", "layout 2+2", "Offsite     none")
	if _, err := os.Stat(cfgPath); err == nil {
		t.Fatal("configuration written before the final confirmation")
	}
	if ents, _ := os.ReadDir(disks[0]); len(ents) != 0 {
		t.Fatalf("disk written before the final confirmation: %v", ents)
	}
	s.keys("Enter")
	scr := s.waitFor("step 7 of 7", "last group")
	key := shownKey.FindString(scr)
	if key == "" {
		t.Fatalf("no recovery key on the screen:\n%s", scr)
	}
	s.text("zzzz")
	s.keys("Enter")
	s.waitFor("not the last group")
	s.text(key[len(key)-4:])
	s.keys("Enter")
	s.waitFor("STRONGROOM status", "layout 2+2", "no successful backup yet")

	fi, err := os.Stat(filepath.Join(dir, "etc", "recovery.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("recovery key file: %v, mode %v; want 0600", err, fi)
	}
	// Outside an appliance image the update service says so, and the
	// screen offers nothing; its log line goes to stderr, which here is
	// the terminal, so it must not be drawn. Run by another user, the
	// console would refuse that service (not root): the screen says why.
	s.keys("u")
	want := "not running from a Strongroom appliance image"
	if os.Geteuid() != 0 {
		want = "does not answer on"
	}
	scr = s.waitFor("STRONGROOM update", want)
	if strings.Contains(scr, "update: ") || strings.Contains(scr, "level=") {
		t.Fatalf("a log line is drawn on the console:\n%s", scr)
	}
	s.keys("Escape")
	// No warden runs in this test: the console says so, and the frozen
	// clock's key c takes the footer's last place (u still works).
	s.waitFor("STRONGROOM status", "warden: the warden has published no status", "c clock")
	s.keys("q")
	s.waitFor("console exited 0")

	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := keys.ReadRecoveryKeyFile(cfg.Vault.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if rk.String() != key {
		t.Errorf("key file holds a different key from the one shown")
	}
	v, err := vault.Open(vault.Options{Disks: cfg.Vault.Disks, Key: rk, StateDir: cfg.Vault.StateDir})
	if err != nil {
		t.Fatalf("the vault setup created does not open: %v", err)
	}
	defer v.Close()
	st, err := v.Status()
	if err != nil || st.Layout != "2+2" || len(st.Disks) != 4 {
		t.Errorf("vault status = %+v, %v", st, err)
	}
	if cfg.Retention.Audit.D() != config.DefaultAudit || len(cfg.Vault.Disks) != 4 || !strings.HasPrefix(cfg.GraphBaseURL, "https://127.0.0.1:") {
		t.Errorf("configuration = %+v", cfg)
	}
}
