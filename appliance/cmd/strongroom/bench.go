package main

import (
	"encoding/json"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/bench"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/storage/vault"
)

func init() {
	register(func() *cobra.Command {
		return group("bench", "Measure the vault on real data (ingest, scrub)", "", newBenchIngestCmd(), newBenchScrubCmd(), newBenchTenantCmd())
	})
}

// jsonLine writes a benchmark's result as one line of JSON, for scripts.
func jsonLine(w io.Writer, res any, err error) error {
	if err != nil {
		return err
	}
	return json.NewEncoder(w).Encode(res)
}

func newBenchIngestCmd() *cobra.Command {
	var o bench.IngestOptions
	c := command("ingest --disk DIR ... SRC [--parent-pass] [--key-file F]",
		"Store every file under SRC as an item of one snapshot, twice, and print the speed", "bench-ingest", cobra.ExactArgs(1))
	onConfig(c, true, func(cmd *cobra.Command, args []string, vc config.Vault) error {
		o.Src = args[0]
		res, err := bench.Ingest(vc, o)
		return jsonLine(cmd.OutOrStdout(), res, err)
	})
	c.Flags().BoolVar(&o.ParentPass, "parent-pass", true, "run the second, unchanged pass that reuses the first snapshot's items")
	c.Flags().IntVar(&o.Workers, "workers", 0, "writer goroutines (default: GOMAXPROCS)")
	c.Flags().StringVar(&o.CPUProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file")
	c.Flags().StringVar(&o.MemProfile, "memprofile", "", "write a Go heap profile taken after the first pass to this file")
	return c
}

func newBenchScrubCmd() *cobra.Command {
	var repair bool
	c := command("scrub --disk DIR ... [--repair]", "Scrub the vault and print one JSON line with bytes read, seconds and MB/s", "", cobra.NoArgs)
	onVault(c, false, func(cmd *cobra.Command, _ []string, v *vault.Vault) error {
		res, err := bench.Scrub(v, repair)
		return jsonLine(cmd.OutOrStdout(), res, err)
	})
	c.Flags().BoolVar(&repair, "repair", false, "also rebuild missing or corrupt shards")
	return c
}

func newBenchTenantCmd() *cobra.Command {
	var o bench.TenantOptions
	var asJSON bool
	c := command("tenant [--users N] [--throttle realistic] [--latency 30ms] [--workers W] [--json]",
		"Back up a simulated tenant (full, unchanged incremental, mail burst) and compare with the throttle limits", "bench-tenant", cobra.NoArgs)
	c.Long += "\n\n" + bench.IdealHelp + "\n\n" + bench.TeamsHelp
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		progress := cmd.ErrOrStderr()
		if asJSON {
			progress = io.Discard
		}
		o.Log = quietLog()
		res, err := bench.Tenant(cmd.Context(), o, progress)
		if err != nil || asJSON {
			return jsonLine(cmd.OutOrStdout(), res, err)
		}
		bench.PrintTenant(cmd.OutOrStdout(), res)
		return nil
	}
	fl := c.Flags()
	fl.IntVar(&o.Users, "users", 50, "users in the simulated tenant")
	fl.Int64Var(&o.Seed, "seed", 7, "seed of the simulated tenant")
	fl.StringVar(&o.Throttle, "throttle", string(tenantsim.ThrottleRealistic), "throttling of the simulator: off, realistic or strict")
	fl.DurationVar(&o.Latency, "latency", 30*time.Millisecond, "delay added to every Graph request (as against Microsoft)")
	fl.IntVar(&o.Workers, "workers", 16, "mailboxes backed up in parallel (the configuration's workers)")
	fl.IntVar(&o.Messages, "messages", 0, "mails per licensed user (default: the simulator's profile)")
	fl.IntVar(&o.ChannelMessages, "channel-messages", 0, "extra threads in every channel of every team (busy channels; 0: none)")
	fl.IntVar(&o.ChannelReplies, "channel-replies", 0, "replies to each of the --channel-messages threads")
	fl.IntVar(&o.Burst, "burst", 5, "new mails per mailbox before the last incremental")
	fl.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (vault, configuration)")
	fl.StringVar(&o.CPUProfile, "cpuprofile", "", "write a Go CPU profile of the whole run to this file")
	fl.StringVar(&o.FaultSpec, "faults", "", "faults the simulator injects, as for tenant-sim --faults (e.g. truncate=0.05)")
	fl.BoolVar(&asJSON, "json", false, "print one JSON line instead of the report")
	return c
}
