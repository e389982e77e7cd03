package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/daemon"
	"github.com/strongroom/strongroom/appliance/osupdate"
	"github.com/strongroom/strongroom/appliance/outcome"
)

func init() { register(newUpdateCmd) }

func newUpdateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Install a new appliance image into the other slot, roll back, or show the slots",
		Long: `The boot disk holds two copies of the appliance software (slots a and b).
An update is written into the slot that is not running, verified, and booted
at the next restart on trial: if it does not come up healthy within three
boots, the previous slot boots again by itself. Updates and rollbacks need
root (the console runs them from the keyboard); the agent cannot.`,
	}
	cmd.AddCommand(newUpdateStatusCmd(), newUpdateApplyCmd(), newUpdateRollbackCmd(), newUpdateMarkGoodCmd(), newUpdatePackCmd())
	return cmd
}

func newUpdateStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the running slot, both slots' versions and which one boots next",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := osupdate.NewSystem().Status()
			if err != nil {
				return err
			}
			return outcome.Show(outcome.Output{W: cmd.OutOrStdout(), JSON: asJSON}, st, osupdate.PrintStatus)
		},
	}
	flagErrorsAreUsage(cmd)
	return jsonFlag(cmd, &asJSON)
}

func newUpdateApplyCmd() *cobra.Command {
	var downgrade bool
	cmd := &cobra.Command{
		Use:   "apply BUNDLE",
		Short: "Write an update bundle (a file, or a disk it was copied to) into the other slot",
		Long: `apply checks the bundle's signature against the certificate in the running
image, writes the root file system and its hash tree into the slot that is not
running, reads them back and recomputes the dm-verity root hash, checks the
kernel image, and only then adds the boot entry. Restart to boot it.`,
		Example: `  strongroom update apply /dev/sdb
  strongroom update apply /var/lib/strongroom/strongroom-update.sru`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := osupdate.NewSystem().Apply(cmd.Context(), args[0], osupdate.ApplyOptions{
				AllowDowngrade: downgrade, Progress: osupdate.TextProgress(cmd.ErrOrStderr())})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Message)
			return nil
		},
	}
	cmd.Flags().BoolVar(&downgrade, "allow-downgrade", false, "install a bundle that is not newer than the running version")
	flagErrorsAreUsage(cmd)
	return cmd
}

func newUpdateRollbackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Boot the other slot's version at the next restart",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := osupdate.NewSystem().Rollback()
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Message)
			return nil
		},
	}
	flagErrorsAreUsage(cmd)
	return cmd
}

func newUpdateMarkGoodCmd() *cobra.Command {
	var configPath string
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "mark-good",
		Short: "Confirm a trial boot once the agent answers (run by strongroom-boot-ok.service)",
		Long: `On a boot of a freshly installed slot, mark-good waits until the agent answers
on its socket (when the appliance is configured) and then removes the boot
counter, so the slot stays. It exits non-zero only when a trial boot's agent
does not answer in time; the unit then restarts the machine and the boot
loader counts the attempt. On a confirmed slot it does nothing; other errors
are reported and exit 0.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			sys := osupdate.NewSystem()
			sys.Healthy = func(ctx context.Context) error { return daemon.Answering(ctx, configPath, wait) }
			res, err := sys.MarkGood(cmd.Context())
			if err != nil && !errors.Is(err, osupdate.ErrUnhealthy) {
				// Only an unhealthy trial boot may make the unit fail
				// (and restart the machine): any other error here would
				// restart a confirmed system over and over.
				fmt.Fprintln(cmd.ErrOrStderr(), "mark-good:", err)
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Message)
			return nil
		},
	}
	cmd.Flags().StringVar(&configPath, "config", defaultConfigPath, "the agent's configuration (its api_socket); when it does not exist, the boot counts as healthy")
	cmd.Flags().DurationVar(&wait, "wait", 5*time.Minute, "how long to wait for the agent")
	flagErrorsAreUsage(cmd)
	return cmd
}

func newUpdatePackCmd() *cobra.Command {
	var o osupdate.PackOptions
	var keyPath, out string
	cmd := &cobra.Command{
		Use:   "pack --squashfs F --verity F --uki-a F --uki-b F --key PEM --out BUNDLE",
		Short: "Make a signed update bundle from an image build's outputs (image/build.sh runs it)",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			for name, v := range map[string]string{"--squashfs": o.Squashfs, "--verity": o.Verity, "--uki-a": o.UKIA, "--uki-b": o.UKIB, "--key": keyPath, "--out": out} {
				if v == "" {
					return usageError{fmt.Errorf("%s is required", name)}
				}
			}
			key, err := osupdate.LoadSigner(keyPath)
			if err != nil {
				return err
			}
			o.Key = key
			m, err := osupdate.PackFile(o, out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: version %s, root hash %s\n", out, m.ImageVersion, m.RootHash)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Squashfs, "squashfs", "", "root file system (padded to 4 KiB)")
	f.StringVar(&o.Verity, "verity", "", "its dm-verity hash device")
	f.StringVar(&o.UKIA, "uki-a", "", "signed kernel image booting slot a")
	f.StringVar(&o.UKIB, "uki-b", "", "signed kernel image booting slot b")
	f.StringVar(&keyPath, "key", "", "signing key (PEM); its certificate is the one in the image")
	f.StringVar(&out, "out", "", "bundle to write")
	flagErrorsAreUsage(cmd)
	return cmd
}
