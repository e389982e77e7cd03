package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/warden"
)

func init() {
	register(func() *cobra.Command {
		return group("warden", "Privileged helper: seal vault files, keep the ledger and the trusted clock, expire old snapshots", "warden",
			newWardenRoundCmd("seal", "Seal every complete vault file and record it in the ledger (one round)", "", vaultctl.Seal),
			newWardenRoundCmd("expire", "Remove snapshots past their retain-until and segments nothing needs (one round)", "warden-expire", vaultctl.Expire),
			newWardenRunCmd(), newWardenStatusCmd(),
			newConfirmCmd("Accept the current system time (and a rebuilt ledger) so that expiry resumes", "warden-confirm"),
			newWardenDrillCmd())
	})
}

// newWardenRoundCmd makes a command that runs one round of the warden.
func newWardenRoundCmd(name, short, long string, round func(out io.Writer, w *warden.Warden) error) *cobra.Command {
	c := command(name+" --disk DIR ... --key-file FILE", short, long, cobra.NoArgs)
	return onWarden(c, func(cmd *cobra.Command, w *warden.Warden) error { return round(cmd.OutOrStdout(), w) })
}

func newWardenRunCmd() *cobra.Command {
	var interval, expireEvery time.Duration
	c := command("run --disk DIR ... --key-file FILE [--interval D] [--expire-interval D]",
		"Seal every interval and expire every expire interval until stopped", "warden-run", cobra.NoArgs)
	c.PreRunE = func(*cobra.Command, []string) error {
		if interval <= 0 || expireEvery <= 0 {
			return usageError{errors.New("--interval and --expire-interval must be positive")}
		}
		return nil
	}
	onWarden(c, func(cmd *cobra.Command, w *warden.Warden) error {
		vaultctl.RunWarden(cmd.Context(), cmd.OutOrStdout(), w, interval, expireEvery)
		return nil
	})
	c.Flags().DurationVar(&interval, "interval", time.Minute, "time between seal rounds")
	c.Flags().DurationVar(&expireEvery, "expire-interval", time.Hour, "time between expiry rounds (each one has the agent hand the vault over)")
	return c
}

func newWardenStatusCmd() *cobra.Command {
	var asJSON bool
	c := command("status [--json]", "Show the warden's trusted clock, ledger and alerts, as it last published them", "", cobra.NoArgs)
	return jsonFlag(onConfig(c, false, func(cmd *cobra.Command, _ []string, vc config.Vault) error {
		return vaultctl.WardenStatus(output(cmd, asJSON), vc)
	}), &asJSON)
}

// drillArmFlag must be given to run the drill: it attacks the vault for real.
const drillArmFlag = "attack-this-vault"

func newWardenDrillCmd() *cobra.Command {
	var wait time.Duration
	var armed bool
	c := command("drill --config FILE --"+drillArmFlag+" [--wait D]",
		"Attack drill: as the agent's user, try to make the warden lose locked data", "warden-drill", cobra.NoArgs)
	c.PreRunE = func(*cobra.Command, []string) error {
		if !armed {
			return usageError{fmt.Errorf("the drill attacks the vault for real; give --%s to run it", drillArmFlag)}
		}
		if os.Geteuid() == 0 {
			return usageError{errors.New("run the drill as the agent's user, not as root: root is not what it tests")}
		}
		return nil
	}
	onConfig(c, false, func(cmd *cobra.Command, _ []string, vc config.Vault) error {
		return vaultctl.Drill(cmd.OutOrStdout(), vc, wait)
	})
	c.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the warden to record a sealed snapshot")
	c.Flags().BoolVar(&armed, drillArmFlag, false, "confirm that the drill may attack this vault")
	return c
}
