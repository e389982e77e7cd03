package main

import (
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/daemon"
	"github.com/strongroom/strongroom/appliance/setup"
	"github.com/strongroom/strongroom/tui"
	"github.com/strongroom/strongroom/tui/fontfit"
	"github.com/strongroom/strongroom/tui/screens"
)

func init() { register(newConsoleCmd) }

// defaultConfigPath is where the appliance keeps its configuration.
const defaultConfigPath = "/etc/strongroom/strongroom.yaml"

func newConsoleCmd() *cobra.Command {
	var configPath, keyFile, stateDir, updateSocket, fitTTY string
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
			if fitTTY != "" {
				fontfit.FitAndLog(cmd.Context(), fontfit.Appliance, fitTTY, cmd.ErrOrStderr())
			}
			if keyFile == "" {
				keyFile = filepath.Join(filepath.Dir(abs), "recovery.key")
			}
			return tui.Run(tui.Options{
				ConfigPath: abs, KeyFile: keyFile, StateDir: stateDir,
				Setup: setup.NewSystem(), Open: func(path string) (screens.Service, func() error, error) { return daemon.ForConsole(path) }, Refresh: 2 * time.Second,
				Updater: api.DialUpdater(updateSocket),
			}, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", defaultConfigPath, "configuration file; setup creates it when missing")
	f.StringVar(&keyFile, "key-file", "", "where setup writes the recovery key (default: recovery.key beside the configuration)")
	f.StringVar(&stateDir, "state-dir", "", "vault state directory setup configures (default: state/ on the first disk)")
	f.StringVar(&fitTTY, "fit-font", "", "load on this tty the console font that makes 80×25 fill the framebuffer")
	f.StringVar(&updateSocket, "update-socket", api.DefaultUpdateSocket, "the update service's socket (strongroom update serve)")
	return cmd
}
