package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/strongroom/strongroom/appliance/config"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/vault"
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
	cmd.AddCommand(newWardenSealCmd(), newWardenExpireCmd(), newWardenRunCmd(), newWardenStatusCmd(), newWardenConfirmCmd(), newWardenDrillCmd())
	flagErrorsAreUsage(cmd)
	return cmd
}

// wardenDir is the warden's state directory the configuration names.
func wardenDir(c config.Vault) string {
	return vault.DefaultWardenDir(c.Disks, c.StateDir, c.WardenDir)
}

// openWarden opens the warden the flags describe. As root, it refuses a
// warden directory that belongs to another user: the warden's service runs
// as that user, and files written by root would lock it out.
func openWarden(f *vaultFlags) (*warden.Warden, error) {
	c, err := f.resolve()
	if err != nil {
		return nil, err
	}
	k, err := readKey(c)
	if err != nil {
		return nil, err
	}
	dir := wardenDir(c)
	if st, err := os.Stat(dir); err == nil && os.Geteuid() == 0 {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
			return nil, fmt.Errorf("%s belongs to uid %d, the warden's service user: as root, only 'strongroom warden status' and 'strongroom warden confirm' act on it; restart the service with 'systemctl restart strongroom-warden' to run a round now", dir, sys.Uid)
		}
	}
	return warden.Open(warden.Options{Disks: c.Disks, Key: k, Dir: dir})
}

func withWarden(f *vaultFlags, fn func(w *warden.Warden) error) error {
	w, err := openWarden(f)
	if err != nil {
		if errors.Is(err, clock.ErrLocked) {
			return fmt.Errorf("%w: the warden service is running; it does this by itself", err)
		}
		return err
	}
	defer w.Close()
	return fn(w)
}

func printSeal(out io.Writer, rep warden.SealReport) {
	fmt.Fprintf(out, "sealed %d files (%d were already sealed); %d new snapshots and %d new segments recorded\n", rep.Sealed, rep.AlreadySealed, len(rep.NewSnapshots), rep.NewSegments)
	for _, p := range rep.Problems {
		fmt.Fprintln(out, "ALERT:", p)
	}
}

func newWardenSealCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "seal --disk DIR ... --key-file FILE",
		Short: "Seal every complete vault file and record it in the ledger (one round)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withWarden(&f, func(w *warden.Warden) error {
				rep, err := w.Seal()
				if err != nil {
					return err
				}
				printSeal(cmd.OutOrStdout(), rep)
				return nil
			})
		},
	}
	f.register(cmd, true)
	return cmd
}

func newWardenExpireCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "expire --disk DIR ... --key-file FILE",
		Short: "Remove snapshots past their retain-until and segments nothing needs (one round)",
		Long: `Seals and records what is on the disks, takes the vault from the agent
(hand-over), checks that every disk and every snapshot the ledger keeps is
there, and removes what the ledger says has expired on the warden's clock.
Refuses while the clock or a rebuilt ledger awaits 'strongroom warden confirm'.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withWarden(&f, func(w *warden.Warden) error {
				rep, err := w.Expire()
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "expired %d snapshots and %d segments; %d snapshots kept\n", len(rep.Snapshots), len(rep.Segments), rep.Kept)
				for _, id := range rep.Snapshots {
					fmt.Fprintf(out, "  removed snapshot %s\n", id)
				}
				return nil
			})
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
			return withWarden(&f, func(w *warden.Warden) error {
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
			c, err := f.resolve()
			if err != nil {
				return err
			}
			st, err := warden.ReadStatus(wardenDir(c))
			if err != nil {
				return fmt.Errorf("no warden status in %s (%w): is the warden running? ('systemctl status strongroom-warden', or 'strongroom warden run')", wardenDir(c), err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), st)
			}
			for _, l := range warden.Describe(st) {
				fmt.Fprintln(cmd.OutOrStdout(), l)
			}
			return nil
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
			c, err := f.resolve()
			if err != nil {
				return err
			}
			return confirmWarden(cmd.OutOrStdout(), &f, wardenDir(c))
		},
	}
	f.register(cmd, true)
	return cmd
}

// confirmWarden asks the running warden to confirm, or confirms directly
// when none runs.
func confirmWarden(out io.Writer, f *vaultFlags, dir string) error {
	w, err := openWarden(f)
	if err == nil {
		defer w.Close()
		if err := w.Confirm(fmt.Sprintf("confirmed by uid %d from the command line", os.Getuid())); err != nil {
			return err
		}
		fmt.Fprintf(out, "Confirmed: the trusted time is now %s; expiry resumes.\n", w.Clock().Now().UTC().Format(time.RFC3339))
		return nil
	}
	if !errors.Is(err, clock.ErrLocked) && os.Geteuid() != 0 {
		return err
	}
	st, err := warden.ConfirmAndWait(context.Background(), dir, 15*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Confirmed: the trusted time is now %s; expiry resumes.\n", st.Clock.Trusted.UTC().Format(time.RFC3339))
	return nil
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
			c, err := f.resolve()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			dir := wardenDir(c)
			var st warden.Status
			for deadline := time.Now().Add(wait); ; time.Sleep(2 * time.Second) {
				st, err = warden.ReadStatus(dir)
				if err == nil && st.Snapshots > 0 && !st.LastSeal.IsZero() {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the warden has recorded no sealed snapshot within %s (status: %v): run a backup and start the warden first", wait, err)
				}
			}
			rep, err := warden.RunDrill(c.Disks, dir, st.PID, func(format string, args ...any) {
				fmt.Fprintf(out, format+"\n", args...)
			})
			if err != nil {
				return err
			}
			if !rep.OK() {
				fmt.Fprintf(out, "attack drill: FAIL: %d of %d attacks went through (%s); %d of %d sealed files changed (%s)\n",
					len(rep.Succeeded), rep.Attacks, strings.Join(rep.Succeeded, "; "), len(rep.Changed), rep.Files, strings.Join(rep.Changed, ", "))
				return errors.New("the attack drill found the vault within the agent's reach")
			}
			fmt.Fprintf(out, "attack drill: PASS: all %d attacks refused; %d sealed files unchanged; the warden (pid %d) kept %d snapshots\n",
				rep.Attacks, rep.Files, st.PID, st.Snapshots)
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().DurationVar(&wait, "wait", 10*time.Minute, "how long to wait for the warden to record a sealed snapshot")
	cmd.Flags().BoolVar(&armed, drillArmFlag, false, "confirm that the drill may attack this vault")
	return cmd
}
