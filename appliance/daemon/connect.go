package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/storage/vault"
	"github.com/strongroom/strongroom/storage/warden"
)

// Local says whether and how Connect may open the agent in this process
// when no daemon answers.
type Local struct {
	// Log receives the in-process agent's log.
	Log *slog.Logger
	// OwnVaultOnly refuses to open it when this process runs as root and
	// another user owns the vault (the agent's user on the appliance):
	// files root left in the vault would lock the agent out.
	OwnVaultOnly bool
}

// Connect reaches the agent of cfg: its daemon over the socket when one
// answers there, otherwise the agent opened in this process as l says.
// The returned close lets go of it.
func Connect(cfg *config.Config, l Local) (api.Service, func() error, error) {
	if r, err := api.Dial(cfg.APISocket); err == nil {
		return r, func() error { return nil }, nil
	}
	if l.OwnVaultOnly && os.Geteuid() == 0 {
		if uid, _, ok := vault.Owner(cfg.Vault.Disks, cfg.Vault.StateDir); ok && uid != 0 {
			return nil, nil, notRunning(cfg.APISocket, agentExitStatus())
		}
	}
	a, err := agent.New(agent.Options{Config: cfg, Log: l.Log})
	if err != nil {
		return nil, nil, fmt.Errorf("open the agent for %s: %w", cfg.Path(), err)
	}
	return api.NewLocal(a), a.Close, nil
}

// ForConsole reaches the agent of the configuration at path as the
// appliance's console does: its daemon, or the agent in this process
// (never on a vault another user owns, when run as root) with its log
// discarded, since the console owns the screen; clock confirmations go to
// the warden.
func ForConsole(path string) (api.Service, func() error, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	svc, done, err := Connect(cfg, Local{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), OwnVaultOnly: true})
	if err != nil {
		return nil, nil, err
	}
	return WardenConfirms(svc, vault.DefaultWardenDir(cfg.Vault.Disks, cfg.Vault.StateDir, cfg.Vault.WardenDir)), done, nil
}

// wardenConfirms is an agent's service whose clock confirmations go to
// the warden instead.
type wardenConfirms struct {
	api.Service
	dir string
}

// WardenConfirms returns svc with ConfirmClock leaving a confirmation for
// the warden of wardenDir and waiting for it to be taken: the console's
// operator (root) may confirm the trusted clock, the agent may not.
func WardenConfirms(svc api.Service, wardenDir string) api.Service {
	return wardenConfirms{svc, wardenDir}
}

func (s wardenConfirms) ConfirmClock(ctx context.Context) error {
	_, err := warden.ConfirmAndWait(ctx, s.dir, 15*time.Second)
	return err
}

// credentialsExit is systemd's exit status for a unit whose credentials it
// could not set up: on the appliance, secrets the TPM did not unseal.
const credentialsExit = 243

// agentExitStatus asks systemd how the agent's unit last exited; 0 when it
// cannot tell (no systemd, a developer's machine).
var agentExitStatus = func() int {
	out, err := exec.Command("systemctl", "show", "--property=ExecMainStatus", "--value", "strongroom-agent.service").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// notRunning says why the console finds no agent, and what to do.
func notRunning(socket string, exit int) error {
	if exit == credentialsExit {
		return errors.New("the agent cannot start: this machine's TPM did not unseal its secrets (243/CREDENTIALS). " +
			"Setup sealed them to the TPM of the box it ran on, under Secure Boot with the image's own keys: " +
			"these disks and this state partition come from another box, or Secure Boot was turned off or its keys changed. " +
			"Put them back into their box, or turn Secure Boot back on. The vault itself opens only with the recovery key written down at setup: " +
			"a new box set up on these data disks asks for it")
	}
	return fmt.Errorf("the agent is not running (no answer on %s); it restarts by itself, or check 'journalctl -u strongroom-agent'", socket)
}
