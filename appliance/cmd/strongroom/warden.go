package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/warden"
)

func init() { register(newWardenCmd) }

func newWardenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "warden",
		Short: "Privileged helper: seal vault files, keep the ledger and the trusted clock, expire old snapshots",
		Long: `The warden is the only Strongroom role that can make vault files immutable
or remove them. On the appliance it runs as its own user (strongroom-warden)
with CAP_LINUX_IMMUTABLE, CAP_FOWNER and CAP_DAC_OVERRIDE, in its own unit
without network; the agent can neither signal it nor reach its state.

  seal     marks every complete vault file immutable and the vault's
           directories append-only, and records each new snapshot (its
           retain-until and segments) and segment in the warden's ledger;
  expire   removes snapshots whose retain-until, in the ledger, has passed
           on the warden's trusted clock, and segments no kept snapshot
           needs; anything missing, moved or disagreeing stops it;
  status   shows the trusted clock, the ledger and the alerts;
  confirm  accepts the current system time after a clock jump (or a lost
           clock state or ledger), as an operator at the console does.

'warden run' seals every interval, expires every expire interval, and acts
on confirmations within seconds.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newWardenRoundCmd("seal", "Seal every complete vault file and record it in the ledger (one round)", "", vaultctl.Seal),
		newWardenRoundCmd("expire", "Remove snapshots past their retain-until and segments nothing needs (one round)", expireLong, vaultctl.Expire),
		newWardenRunCmd(), newWardenStatusCmd(), newWardenConfirmCmd(), newWardenDrillCmd())
	flagErrorsAreUsage(cmd)
	return cmd
}

// expireLong is the long help of warden expire.
const expireLong = `Seals and records what is on the disks, takes the vault from the agent
(hand-over), checks that every disk and every snapshot the ledger keeps is
there, and removes what the ledger says has expired on the warden's clock.
Refuses while the clock or a rebuilt ledger awaits 'strongroom warden confirm'.`

// withWarden resolves the flags and runs fn on the warden they name.
func (f *vaultFlags) withWarden(fn func(w *warden.Warden) error) error {
	return f.resolved(func(c config.Vault) error { return vaultctl.WithWarden(c, fn) })
}

// newWardenRoundCmd makes a command that runs one round of the warden.
func newWardenRoundCmd(name, short, long string, round func(out io.Writer, w *warden.Warden) error) *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   name + " --disk DIR ... --key-file FILE",
		Short: short,
		Long:  long,
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.withWarden(func(w *warden.Warden) error { return round(cmd.OutOrStdout(), w) })
		},
	}
	f.register(cmd, true)
	return cmd
}

func newWardenRunCmd() *cobra.Command {
	var f vaultFlags
	var interval, expireEvery time.Duration
	cmd := &cobra.Command{
		Use:   "run --disk DIR ... --key-file FILE [--interval D] [--expire-interval D]",
		Short: "Seal every interval and expire every expire interval until stopped",
		Long: `Runs seal at once and then every --interval, and expire at once and then
every --expire-interval, until SIGINT or SIGTERM; confirmation requests
are acted on within seconds. A failed round is reported and retried at the
next interval; it does not stop the warden. The status is published in the
warden's directory (status.json) for the agent's metrics and the console.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval <= 0 || expireEvery <= 0 {
				return usageError{errors.New("--interval and --expire-interval must be positive")}
			}
			return f.withWarden(func(w *warden.Warden) error {
				ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
				defer stop()
				out := cmd.OutOrStdout()
				warden.Run(ctx, w, interval, expireEvery, func(format string, args ...any) {
					fmt.Fprintf(out, format+"\n", args...)
				})
				return nil
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().DurationVar(&interval, "interval", time.Minute, "time between seal rounds")
	cmd.Flags().DurationVar(&expireEvery, "expire-interval", time.Hour, "time between expiry rounds (each one has the agent hand the vault over)")
	return cmd
}

func newWardenStatusCmd() *cobra.Command {
	var f vaultFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [--json]",
		Short: "Show the warden's trusted clock, ledger and alerts, as it last published them",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.resolved(func(c config.Vault) error {
				return vaultctl.WardenStatus(outcome.Output{W: cmd.OutOrStdout(), JSON: asJSON}, c)
			})
		},
	}
	f.register(cmd, false)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newWardenConfirmCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "confirm",
		Short: "Accept the current system time (and a rebuilt ledger) so that expiry resumes",
		Long: `Run it as root (or as the warden's user) after checking the system time.
When the warden service runs, this leaves a request it acts on within
seconds; otherwise it confirms directly. The agent cannot do this.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.resolved(func(c config.Vault) error { return vaultctl.Confirm(cmd.OutOrStdout(), c) })
		},
	}
	f.register(cmd, true)
	return cmd
}

// drillArmFlag must be given to run the drill: it attacks the vault for real.
const drillArmFlag = "attack-this-vault"

func newWardenDrillCmd() *cobra.Command {
	var f vaultFlags
	var wait time.Duration
	var armed bool
	cmd := &cobra.Command{
		Use:   "drill --config FILE --" + drillArmFlag + " [--wait D]",
		Short: "Attack drill: as the agent's user, try to make the warden lose locked data",
		Long: `Run as the agent's user (never as root), after the warden has sealed at
least one backup. It fingerprints every sealed file, then tries everything
issue 11's drill tried: hide, rename, remove, truncate, overwrite or replace
by a link the vault's directories and files on every disk; truncate, read,
remove or rewrite the warden's ledger and clock (1 h, 23.9 h, 100 years
ahead); forge a confirmation; stop or kill the warden. Every attempt must
fail and every sealed file must be unchanged; it prints one line per attempt
and "attack drill: PASS" or "attack drill: FAIL". Where protection is
missing it does real damage, hence --` + drillArmFlag + `. The appliance's
firmware test runs it through strongroom-drill.service.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !armed {
				return usageError{fmt.Errorf("the drill attacks the vault for real; give --%s to run it", drillArmFlag)}
			}
			if os.Geteuid() == 0 {
				return usageError{errors.New("run the drill as the agent's user, not as root: root is not what it tests")}
			}
			return f.resolved(func(c config.Vault) error { return vaultctl.Drill(cmd.OutOrStdout(), c, wait) })
		},
	}
	f.register(cmd, false)
	cmd.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the warden to record a sealed snapshot")
	cmd.Flags().BoolVar(&armed, drillArmFlag, false, "confirm that the drill may attack this vault")
	return cmd
}
