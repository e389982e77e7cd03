package main

import (
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/storage/vault"
)

func init() { register(newWardenCmd) }

func newWardenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "warden",
		Short: "Privileged helper: make sealed vault files immutable and expire old snapshots",
		Long: `The warden is the only Strongroom role that needs the Linux capability
CAP_LINUX_IMMUTABLE (run it as its own service with only that capability;
the agent never gets it). It does two things:

  seal    marks every complete vault file (segment shards, snapshot manifests,
          retention records, disk labels, keyfiles) immutable (chattr +i), so
          nothing on the appliance, the agent included, can change or delete it;
  expire  removes snapshots whose retain-until has passed on the trusted clock,
          and the segments no remaining snapshot needs, clearing the
          immutable flag first. It needs the recovery key, and does nothing
          while the trusted clock awaits confirmation of a time jump.

'warden run' repeats seal (and expire, when a key file is given) at an interval.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newWardenSealCmd(), newWardenExpireCmd(), newWardenRunCmd())
	flagErrorsAreUsage(cmd)
	return cmd
}

func wardenSeal(w io.Writer, f *vaultFlags) error {
	c, err := f.resolve()
	if err != nil {
		return err
	}
	rep, err := vault.SealFiles(c.Disks)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "sealed %d files (%d were already immutable)\n", rep.Sealed, rep.AlreadySealed)
	return nil
}

func wardenExpire(w io.Writer, f *vaultFlags) error {
	c, err := f.resolve()
	if err != nil {
		return err
	}
	k, err := readKey(c)
	if err != nil {
		return err
	}
	// The agent keeps the vault open; ask it to hand the vault over
	// between jobs, and give it back when done.
	if err := vault.RequestHandover(c.Disks); err != nil {
		return err
	}
	defer vault.EndHandover(c.Disks)
	v, err := vault.OpenWhenFree(vault.Options{Disks: c.Disks, Key: k, StateDir: c.StateDir, Progress: func(s string) { fmt.Fprintln(w, s) }}, handoverWait)
	if err != nil {
		return fmt.Errorf("%w (the agent hands the vault over between jobs; a long backup may hold it past %s, and the next round tries again)", err, handoverWait)
	}
	defer v.Close()
	rep, err := v.Expire()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "expired %d snapshots and %d segments; %d snapshots kept\n", len(rep.Snapshots), len(rep.Segments), rep.Kept)
	for _, id := range rep.Snapshots {
		fmt.Fprintf(w, "  removed snapshot %s\n", id)
	}
	return nil
}

// handoverWait bounds how long expiry waits for the agent to let go of
// the vault.
const handoverWait = 10 * time.Minute

func newWardenSealCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "seal --disk DIR ...",
		Short: "Make every complete vault file immutable (needs CAP_LINUX_IMMUTABLE)",
		Long: `Sets the immutable flag on every complete vault file on the given disks.
It needs no key and no vault lock, so it runs while the agent writes: files
appear under their final names only once complete and synced.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return wardenSeal(cmd.OutOrStdout(), &f) },
	}
	f.register(cmd, false)
	return cmd
}

func newWardenExpireCmd() *cobra.Command {
	var f vaultFlags
	cmd := &cobra.Command{
		Use:   "expire --disk DIR ... --key-file FILE",
		Short: "Remove snapshots past their retain-until and segments nothing needs",
		Long: `Removes snapshots whose retain-until has passed on the vault's trusted
clock, then the segments no remaining snapshot needs. Needs the recovery key
and CAP_LINUX_IMMUTABLE (to unseal the files), and the vault must not be open
in another process. Refuses while a forward clock jump awaits
'strongroom vault clock confirm'.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error { return wardenExpire(cmd.OutOrStdout(), &f) },
	}
	f.register(cmd, true)
	return cmd
}

func newWardenRunCmd() *cobra.Command {
	var f vaultFlags
	var interval, expireEvery time.Duration
	cmd := &cobra.Command{
		Use:   "run --disk DIR ... [--key-file FILE] [--interval D] [--expire-interval D]",
		Short: "Seal every interval (and expire, with a key, every expire interval) until stopped",
		Long: `Runs seal at once and then every --interval until SIGINT or SIGTERM.
With a recovery key (--key-file, STRONGROOM_KEY_FILE or the configuration)
it also runs expire at once and then every --expire-interval; expiry needs
the vault alone, so it asks the running agent to hand the vault over between
jobs. A failed round is reported and retried at the next interval; it does
not stop the warden.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if interval <= 0 || expireEvery <= 0 {
				return usageError{errors.New("--interval and --expire-interval must be positive")}
			}
			c, err := f.resolve()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
			report := func(what string, err error) {
				if err == nil {
					return
				}
				fmt.Fprintf(errw, "warden %s: %v\n", what, err)
				if fix := vault.Remedy(err); fix != "" {
					fmt.Fprintln(errw, "  what to do:", fix)
				}
			}
			t := time.NewTicker(interval)
			defer t.Stop()
			var lastExpire time.Time
			for {
				report("seal", wardenSeal(out, &f))
				if c.KeyFile != "" && time.Since(lastExpire) >= expireEvery {
					lastExpire = time.Now()
					report("expire", wardenExpire(out, &f))
				}
				select {
				case <-ctx.Done():
					fmt.Fprintln(out, "warden stopped")
					return nil
				case <-t.C:
				}
			}
		},
	}
	f.register(cmd, true)
	cmd.Flags().DurationVar(&interval, "interval", time.Minute, "time between seal rounds")
	cmd.Flags().DurationVar(&expireEvery, "expire-interval", time.Hour, "time between expiry rounds (each one has the agent hand the vault over)")
	return cmd
}
