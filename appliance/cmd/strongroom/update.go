package main

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/daemon"
	"github.com/strongroom/strongroom/appliance/osupdate"
	"github.com/strongroom/strongroom/appliance/outcome"
)

func init() {
	register(func() *cobra.Command {
		return group("update", "Install a new appliance image into the other slot, roll back, or show the slots", "update",
			newUpdateStatusCmd(), newUpdateApplyCmd(), newUpdateRollbackCmd(), newUpdateMarkGoodCmd(), newUpdatePackCmd(), newUpdateServeCmd())
	})
}

// said writes the message of what an update operation changed.
func said(w io.Writer, res *osupdate.Result, err error) error {
	if err == nil {
		fmt.Fprintln(w, res.Message)
	}
	return err
}

func newUpdateStatusCmd() *cobra.Command {
	var asJSON bool
	c := command("status", "Show the running slot, both slots' versions and which one boots next", "", cobra.NoArgs)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		st, err := osupdate.NewSystem().Status()
		if err != nil {
			return err
		}
		return outcome.Show(output(cmd, asJSON), st, osupdate.PrintStatus)
	}
	return jsonFlag(c, &asJSON)
}

func newUpdateApplyCmd() *cobra.Command {
	var o osupdate.ApplyOptions
	c := command("apply BUNDLE", "Write an update bundle (a file, or a disk it was copied to) into the other slot", "update-apply", cobra.ExactArgs(1))
	c.Example = `  strongroom update apply /dev/sdb
  strongroom update apply /var/lib/strongroom/strongroom-update.sru`
	c.RunE = func(cmd *cobra.Command, args []string) error {
		o.Progress = osupdate.TextProgress(cmd.ErrOrStderr())
		res, err := osupdate.NewSystem().Apply(cmd.Context(), args[0], o)
		return said(cmd.OutOrStdout(), res, err)
	}
	c.Flags().BoolVar(&o.AllowDowngrade, "allow-downgrade", false, "install a bundle that is not newer than the running version")
	return c
}

func newUpdateRollbackCmd() *cobra.Command {
	c := command("rollback", "Boot the other slot's version at the next restart", "", cobra.NoArgs)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		res, err := osupdate.NewSystem().Rollback()
		return said(cmd.OutOrStdout(), res, err)
	}
	return c
}

func newUpdateMarkGoodCmd() *cobra.Command {
	var configPath string
	var wait time.Duration
	c := command("mark-good", "Confirm a trial boot once the agent answers (run by strongroom-boot-ok.service)", "update-mark-good", cobra.NoArgs)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		return daemon.MarkGood(cmd.Context(), configPath, wait, cmd.OutOrStdout(), cmd.ErrOrStderr())
	}
	c.Flags().StringVar(&configPath, "config", defaultConfigPath, "the agent's configuration (its api_socket); when it does not exist, the boot counts as healthy")
	c.Flags().DurationVar(&wait, "wait", 5*time.Minute, "how long to wait for the agent")
	return c
}

func newUpdatePackCmd() *cobra.Command {
	var o osupdate.PackOptions
	var keyPath, out string
	files := []struct {
		flag  string
		path  *string
		usage string
	}{
		{"squashfs", &o.Squashfs, "root file system (padded to 4 KiB)"},
		{"verity", &o.Verity, "its dm-verity hash device"},
		{"uki-a", &o.UKIA, "signed kernel image booting slot a"},
		{"uki-b", &o.UKIB, "signed kernel image booting slot b"},
		{"key", &keyPath, "signing key (PEM); its certificate is the one in the image"},
		{"out", &out, "bundle to write"},
	}
	c := command("pack --squashfs F --verity F --uki-a F --uki-b F --key PEM --out BUNDLE",
		"Make a signed update bundle from an image build's outputs (image/build.sh runs it)", "", cobra.NoArgs)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		for _, f := range files {
			if *f.path == "" {
				return usageError{fmt.Errorf("--%s is required", f.flag)}
			}
		}
		return osupdate.PackSigned(o, keyPath, out, cmd.OutOrStdout())
	}
	for _, f := range files {
		c.Flags().StringVar(f.path, f.flag, "", f.usage)
	}
	return c
}

func newUpdateServeCmd() *cobra.Command {
	var socket string
	c := command("serve [--socket PATH]", "Run the update service the console asks to install, roll back and restart (root only)", "update-serve", cobra.NoArgs)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		return daemon.ServeUpdates(cmd.Context(), socket, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil)))
	}
	c.Flags().StringVar(&socket, "socket", api.DefaultUpdateSocket, "unix socket to listen on (mode 0600)")
	return c
}
