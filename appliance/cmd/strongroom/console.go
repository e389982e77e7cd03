package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/daemon"
	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/storage/vault"
	"github.com/strongroom/strongroom/tui"
	"github.com/strongroom/strongroom/tui/screens"
)

func init() { register(newConsoleCmd) }

// defaultConfigPath is where the appliance keeps its configuration.
const defaultConfigPath = "/etc/strongroom/strongroom.yaml"

func newConsoleCmd() *cobra.Command {
	var configPath, keyFile, stateDir string
	cmd := &cobra.Command{
		Use:   "console [--config FILE]",
		Short: "The appliance console: first-boot setup wizard, then the status screen",
		Long: `console is what tty1 of the appliance shows. It is drawn for the Linux
console: 80x25, 16 colours, keyboard only.

When the configuration file does not exist, it runs the setup wizard:
network, data disks, Microsoft 365 tenant, schedule and retention, a summary
to confirm; then it creates the vault, shows its recovery key once, and
writes the key file and the configuration. Esc goes back one step. Nothing
is written before the final confirmation, and a setup interrupted after it
removes the vault it created.

Afterwards it shows the agent's status (over the agent's socket, or with the
agent opened in this process when no daemon runs) with actions: b backup
now, r restore test, s scrub, l browse a restore point (R in it restores the
selected user, folder or item into a mailbox), d replace a disk, t change
retention (locks only grow), c confirm a clock jump, u update or roll back
the appliance software (bundles written to an attached disk), q quit.

Environment: STRONGROOM_DISK_DIRS offers directories matching glob patterns
as disks instead of the machine's block devices (tests and demos);
STRONGROOM_NETWORK_DIR overrides /etc/systemd/network.`,
		Example: `  strongroom console
  STRONGROOM_DISK_DIRS='/tmp/demo/disk*' strongroom console --config /tmp/demo/strongroom.yaml`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			abs, err := filepath.Abs(configPath)
			if err != nil {
				return err
			}
			if keyFile == "" {
				keyFile = filepath.Join(filepath.Dir(abs), "recovery.key")
			}
			return tui.Run(tui.Options{
				ConfigPath: abs, KeyFile: keyFile, StateDir: stateDir,
				Setup: setup.NewSystem(), Open: openAgent, Refresh: 2 * time.Second,
				Updater: tui.NewSystemUpdater(),
			}, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", defaultConfigPath, "configuration file; setup creates it when missing")
	f.StringVar(&keyFile, "key-file", "", "where setup writes the recovery key (default: recovery.key beside the configuration)")
	f.StringVar(&stateDir, "state-dir", "", "vault state directory setup configures (default: state/ on the first disk)")
	flagErrorsAreUsage(cmd)
	return cmd
}

// openAgent reaches the agent daemon on its socket, or opens the agent in
// this process when no daemon listens (and the vault is this user's). The
// in-process agent's log goes nowhere: the console owns the screen.
func openAgent(path string) (screens.Service, func() error, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	svc, done, err := daemon.Connect(cfg, daemon.Local{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), OwnVaultOnly: true})
	if err != nil {
		return nil, nil, err
	}
	return daemon.WardenConfirms(svc, vault.DefaultWardenDir(cfg.Vault.Disks, cfg.Vault.StateDir, cfg.Vault.WardenDir)), done, nil
}
