package offsitectl

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
)

// Wiring is what the command line lends the offsite commands, so they
// behave as its others do: the --config and --json flags, where and how a
// command writes, and the manual page of a name (help/<name>.txt).
type Wiring struct {
	Flags  func(*cobra.Command) (configPath *string, asJSON *bool)
	Output func(cmd *cobra.Command, asJSON bool) outcome.Output
	Help   func(name string) string
}

type op func(context.Context, outcome.Output, *config.Config) error

// on makes a command that runs fn with the configuration --config names.
func (w Wiring) on(use, short, long string, fn op) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	if long != "" {
		c.Long = w.Help(long)
	}
	path, asJSON := w.Flags(c)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		cfg, err := config.Read(*path)
		if err != nil {
			return err
		}
		return fn(cmd.Context(), w.Output(cmd, *asJSON), cfg)
	}
	return c
}

// Commands are the subcommands of 'strongroom offsite'.
func (w Wiring) Commands() []*cobra.Command {
	once := func(verify bool) op {
		return func(ctx context.Context, o outcome.Output, c *config.Config) error { return Once(ctx, o, c, verify) }
	}
	return []*cobra.Command{
		w.on("status [--json]", "Show the last offsite run as the copier published it", "", Status),
		w.on("sync", "Copy what the bucket lacks and extend locks now (as the offsite user)", "offsite-sync", once(false)),
		w.on("verify", "Check every object of the copy with HEAD: present, COMPLIANCE, locked long enough", "", once(true)),
		w.runCommand(),
		w.allowCommand(),
	}
}

func (w Wiring) runCommand() *cobra.Command {
	var pinned string
	var checkFirewall bool
	c := w.on("run [--pinned FILE] [--check-firewall]", "The service: sync every offsite.interval until stopped", "",
		func(ctx context.Context, o outcome.Output, c *config.Config) error {
			return Run(ctx, o, c, pinned, checkFirewall)
		})
	c.Flags().StringVar(&pinned, "pinned", "", "reach the endpoint only at the addresses in this file (written by 'offsite allow-endpoint')")
	c.Flags().BoolVar(&checkFirewall, "check-firewall", false, "first send one UDP datagram to "+FirewallProbe+" and log whether the unit's firewall refused it")
	return c
}

func (w Wiring) allowCommand() *cobra.Command {
	var pinned, unit string
	c := w.on("allow-endpoint --pinned FILE [--unit NAME]",
		"As root before the service starts: resolve the endpoint, pin its addresses and open the unit's firewall to them only", "",
		func(ctx context.Context, o outcome.Output, c *config.Config) error {
			return AllowEndpoint(ctx, o, c, pinned, unit)
		})
	c.Flags().StringVar(&pinned, "pinned", "", "file to write the endpoint's addresses to, for 'offsite run --pinned'")
	c.Flags().StringVar(&unit, "unit", "strongroom-offsite.service", "the unit whose IPAddressAllow= is set (systemctl set-property --runtime)")
	c.MarkFlagRequired("pinned")
	return c
}

// RecoverCommand is 'strongroom vault recover --from-offsite'.
func (w Wiring) RecoverCommand() *cobra.Command {
	var r Recovery
	var fromOffsite bool
	c := w.on("recover --from-offsite --config FILE [--snapshots | --restore SNAPSHOT --dest DIR [--path P] | --disk DIR ...]",
		"Recover from the offsite copy: list restore points, restore items, or rebuild the vault on new disks", "vault-recover",
		func(ctx context.Context, o outcome.Output, cfg *config.Config) error {
			if !fromOffsite || (r.Snapshot != "") != (r.Dest != "") {
				return outcome.Usage{Err: errors.New("give --from-offsite, and --restore SNAPSHOT together with --dest DIR")}
			}
			return Recover(ctx, o, cfg, r)
		})
	fl := c.Flags()
	fl.BoolVar(&fromOffsite, "from-offsite", false, "recover from the bucket of the configuration's offsite: section")
	fl.StringArrayVar(&r.Vault.Disks, "disk", nil, "new, empty disk to rebuild the vault on (repeat; default vault.disks)")
	fl.StringVar(&r.Vault.KeyFile, "key-file", "", "file holding the recovery key (default: $STRONGROOM_KEY_FILE, or key_file)")
	fl.StringVar(&r.VaultID, "vault-id", "", "the vault to recover, when the bucket holds several")
	fl.BoolVar(&r.List, "snapshots", false, "list the restore points the bucket holds")
	fl.StringVar(&r.Snapshot, "restore", "", "restore this snapshot's items straight from the bucket")
	fl.StringVar(&r.Dest, "dest", "", "directory to restore into (with --restore)")
	fl.StringVar(&r.Path, "path", "", "restore only items at or below this path")
	return c
}
