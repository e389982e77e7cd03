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
		Long:  help("console"),
		Example: `  strongroom console
  STRONGROOM_DISK_DIRS='/tmp/demo/disk*' strongroom console --config /tmp/demo/strongroom.yaml`,
		Args: cobra.NoArgs,
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
