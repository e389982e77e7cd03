package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/simctl"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

func init() { register(newTenantSimCmd) }

func newTenantSimCmd() *cobra.Command {
	var listen, throttle, publicHost, faults string
	var files simctl.Files
	var users, channelMessages, channelReplies int
	var seed int64
	cmd := &cobra.Command{
		Use:   "tenant-sim",
		Short: "Run a local Microsoft 365 tenant that speaks Graph, for tests and demos",
		Long:  help("tenant-sim"),
		Example: `  strongroom tenant-sim --listen 127.0.0.1:8443 --users 50 --seed 7 --config-out sim.yaml
  strongroom tenant-sim scenario delete-folder --config sim.yaml --user anna.muller0@contoso-sim.onmicrosoft.com --folder "Signed Contracts"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := simctl.ParseFaults(faults)
			if err != nil {
				return usageError{fmt.Errorf("--faults: %w", err)}
			}
			cfg := tenantsim.Config{Users: users, Seed: seed, PublicHost: publicHost, Faults: f, Throttle: tenantsim.Throttle{Mode: tenantsim.ThrottleMode(throttle)}}
			cfg.Profile.ChannelMessages, cfg.Profile.ChannelReplies = channelMessages, channelReplies
			s, err := tenantsim.New(cfg)
			if err != nil {
				return usageError{err}
			}
			return simctl.Serve(cmd.Context(), cmd.OutOrStdout(), s, listen, files)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:0", "address to serve HTTPS on (port 0 picks a free one)")
	f.StringVar(&publicHost, "public-host", "", "host or IP clients use to reach the simulator, named in the URLs and the certificate (e.g. 10.0.2.2 for a QEMU guest)")
	f.IntVar(&users, "users", 10, "number of users to generate")
	f.Int64Var(&seed, "seed", 1, "generation seed; the same seed gives the same tenant")
	f.IntVar(&channelMessages, "channel-messages", 0, "extra threads in every channel of every team (busy channels; 0: none)")
	f.IntVar(&channelReplies, "channel-replies", 0, "replies to each of the --channel-messages threads")
	f.StringVar(&files.ConfigOut, "config-out", "", "write the agent connection file (YAML) here")
	f.StringVar(&files.CAOut, "ca-out", "", "write the CA certificate here (default: next to --config-out, else in the temp dir)")
	f.StringVar(&throttle, "throttle", "off", "throttling profile: off, realistic or strict")
	f.StringVar(&faults, "faults", "", "injected failures, e.g. truncate=0.05,reset=0.01,503=0.02,slow=0.1:2s (see --help)")
	var sc tenantsim.Scenario
	scenario := simctl.AskCommand("scenario NAME", "Apply a named change to a running simulator", cobra.ExactArgs(1),
		func(ctx context.Context, r *tenantsim.Remote, args []string) (any, error) {
			sc.Name = args[0]
			return r.Apply(ctx, sc)
		})
	scenario.Long = help("tenant-sim-scenario")
	sf := scenario.Flags()
	sf.StringVar(&sc.User, "user", "", "user id or UPN")
	sf.StringVar(&sc.Folder, "folder", "", "folder path or name, e.g. \"Inbox/Signed Contracts\"")
	sf.StringVar(&sc.To, "to", "", "destination folder for move-messages")
	sf.StringVar(&sc.Site, "site", "", "site name or display name for delete-library or ransomware on its library; team or group (name, mail or id) for the Teams scenarios")
	sf.IntVar(&sc.Count, "count", 0, "how many messages")
	cmd.AddCommand(scenario,
		simctl.AskCommand("counters", "Print the counters of a running simulator", cobra.NoArgs,
			func(ctx context.Context, r *tenantsim.Remote, _ []string) (any, error) { return r.Counters(ctx) }),
		newDumpCmd(), newDumpDriveCmd(), newFaultsCmd())
	cmd.AddCommand(teamDumpCmds()...)
	return cmd
}

// teamDumpCmds print the Teams ground truth: teams and groups, a
// channel's messages, a group's threads.
func teamDumpCmds() []*cobra.Command {
	return []*cobra.Command{
		simctl.AskCommand("dump-teams", "Print the teams and groups with their channels as JSON", cobra.NoArgs,
			func(ctx context.Context, r *tenantsim.Remote, _ []string) (any, error) { return r.Teams(ctx) }),
		simctl.AskCommand("dump-channel TEAM CHANNEL", "Print a channel's messages and replies (authors, times, texts) as JSON", cobra.ExactArgs(2),
			func(ctx context.Context, r *tenantsim.Remote, a []string) (any, error) {
				return r.DumpChannel(ctx, a[0], a[1])
			}),
		simctl.AskCommand("dump-group GROUP", "Print a group's conversation threads and posts as JSON", cobra.ExactArgs(1),
			func(ctx context.Context, r *tenantsim.Remote, a []string) (any, error) {
				return r.DumpGroupThreads(ctx, a[0])
			}),
	}
}

// newDumpCmd prints a mailbox's exact content; the user is named with
// --user, as the other commands name one.
func newDumpCmd() *cobra.Command {
	var user string
	c := simctl.AskCommand("dump --user U", "Print a mailbox's exact content (MIME in base64) as JSON", cobra.NoArgs,
		func(ctx context.Context, r *tenantsim.Remote, _ []string) (any, error) {
			if user == "" {
				return nil, usageError{errors.New("--user is required: the user id or UPN whose mailbox to print")}
			}
			return r.DumpMailbox(ctx, user)
		})
	c.Long = help("tenant-sim-dump")
	c.Flags().StringVar(&user, "user", "", "user id or UPN")
	return c
}

// newFaultsCmd prints the faults a running simulator injects or, given a
// spec, replaces them.
func newFaultsCmd() *cobra.Command {
	c := simctl.AskCommand("faults [SPEC]", "Print or replace the faults a running simulator injects", cobra.MaximumNArgs(1),
		func(ctx context.Context, r *tenantsim.Remote, args []string) (any, error) {
			if len(args) == 0 {
				return r.Faults(ctx)
			}
			f, err := simctl.ParseFaults(args[0])
			if err != nil {
				return nil, usageError{err}
			}
			return r.SetFaults(ctx, f)
		})
	c.Long = help("tenant-sim-faults")
	return c
}

// newDumpDriveCmd prints a drive now or, with --at, as it stood at a
// change sequence number (a scenario's "before").
func newDumpDriveCmd() *cobra.Command {
	var at uint64
	var c *cobra.Command
	c = simctl.AskCommand("dump-drive DRIVE|USER", "Print a drive's exact content (every version, base64) as JSON", cobra.ExactArgs(1),
		func(ctx context.Context, r *tenantsim.Remote, args []string) (any, error) {
			if c.Flags().Changed("at") {
				return r.DumpDriveAt(ctx, args[0], at)
			}
			return r.DumpDrive(ctx, args[0])
		})
	c.Long = help("tenant-sim-dump-drive")
	c.Flags().Uint64Var(&at, "at", 0, "change sequence number to dump the drive at (a scenario's \"before\")")
	return c
}
