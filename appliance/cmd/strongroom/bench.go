package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/bench"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/storage/vault"
)

func init() { register(newBenchCmd) }

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the vault on real data (ingest, scrub)",
		Args:  usageArgs(cobra.NoArgs),
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newBenchIngestCmd(), newBenchScrubCmd(), newBenchTenantCmd())
	flagErrorsAreUsage(cmd)
	return cmd
}

// printJSONLine writes v as one line of JSON, as the benchmarks print
// their results for scripts.
func printJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(b))
	return err
}

func newBenchIngestCmd() *cobra.Command {
	var f vaultFlags
	var parentPass bool
	var workers int
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "ingest --disk DIR ... SRC [--parent-pass] [--key-file F]",
		Short: "Store every file under SRC as an item of one snapshot, twice, and print the speed",
		Long: `Stores every regular file under SRC as an item (path relative to SRC, size,
modification time, mode) of one snapshot, with one writer goroutine per CPU.
Then (--parent-pass, on by default) it makes a second snapshot of the unchanged
tree the way an incremental backup does: items whose path, size and mtime match
the first snapshot are reused without reading them; the rest are stored.

If the disks are empty a new vault is created on them and its recovery key is
written to --key-file (or to a new temporary file); otherwise the existing
vault is opened with that key. Prints one JSON line: bytes, items, seconds and
MB/s of each pass, peak RSS, the snapshot IDs and the key file.`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workers <= 0 {
				workers = runtime.GOMAXPROCS(0)
			}
			stop, err := bench.ProfileCPU(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			return f.resolved(func(c config.Vault) error {
				res, err := bench.Ingest(c, args[0], parentPass, workers)
				if err != nil {
					return err
				}
				return printJSONLine(cmd.OutOrStdout(), res)
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&parentPass, "parent-pass", true, "run the second, unchanged pass that reuses the first snapshot's items")
	cmd.Flags().IntVar(&workers, "workers", 0, "writer goroutines (default: GOMAXPROCS)")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to this file")
	return cmd
}

func newBenchScrubCmd() *cobra.Command {
	var f vaultFlags
	var repair bool
	cmd := &cobra.Command{
		Use:   "scrub --disk DIR ... [--repair]",
		Short: "Scrub the vault and print one JSON line with bytes read, seconds and MB/s",
		Args:  usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.with(nil, func(v *vault.Vault) error {
				r, err := bench.Scrub(v, repair)
				if err != nil {
					return err
				}
				return printJSONLine(cmd.OutOrStdout(), r)
			})
		},
	}
	f.register(cmd, true)
	cmd.Flags().BoolVar(&repair, "repair", false, "also rebuild missing or corrupt shards")
	return cmd
}

func newBenchTenantCmd() *cobra.Command {
	var o bench.TenantOptions
	var asJSON bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "tenant [--users N] [--throttle realistic] [--latency 30ms] [--workers W] [--json]",
		Short: "Back up a simulated tenant (full, unchanged incremental, mail burst) and compare with the throttle limits",
		Long: `Starts the tenant simulator in this process with the given throttling and
every Graph request delayed by --latency, creates a vault on four temporary
disk directories, and runs three backups through the agent: a full one, an
incremental with nothing changed, and an incremental after a mail burst
(--burst new mails in every mailbox). For each run it prints wall time,
mailboxes, items, new items, bytes, Graph requests (the simulator's count,
the agent's, and the mailboxes'), requests per item and per folder, 429s,
and the ideal wall time the limits allow, with the efficiency ideal / wall.
Peak RSS at the end. --json prints one JSON line instead.

` + bench.IdealHelp,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Users <= 0 || o.Workers <= 0 || o.Latency < 0 || o.Burst < 0 || o.Messages < 0 {
				return usageError{fmt.Errorf("--users and --workers must be positive; --latency, --burst and --messages must not be negative")}
			}
			stop, err := bench.ProfileCPU(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			progress := cmd.ErrOrStderr()
			if asJSON {
				progress = io.Discard
			}
			o.Log = quietLog()
			res, err := bench.Tenant(cmd.Context(), o, progress)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSONLine(cmd.OutOrStdout(), res)
			}
			bench.PrintTenant(cmd.OutOrStdout(), res)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&o.Users, "users", 50, "users in the simulated tenant")
	fl.Int64Var(&o.Seed, "seed", 7, "seed of the simulated tenant")
	fl.StringVar(&o.Throttle, "throttle", string(tenantsim.ThrottleRealistic), "throttling of the simulator: off, realistic or strict")
	fl.DurationVar(&o.Latency, "latency", 30*time.Millisecond, "delay added to every Graph request (as against Microsoft)")
	fl.IntVar(&o.Workers, "workers", 16, "mailboxes backed up in parallel (the configuration's workers)")
	fl.IntVar(&o.Messages, "messages", 0, "mails per licensed user (default: the simulator's profile)")
	fl.IntVar(&o.Burst, "burst", 5, "new mails per mailbox before the last incremental")
	fl.BoolVar(&o.Keep, "keep", false, "keep the temporary directory (vault, configuration)")
	fl.StringVar(&cpuProfile, "cpuprofile", "", "write a Go CPU profile of the whole run to this file")
	fl.BoolVar(&asJSON, "json", false, "print one JSON line instead of the report")
	return cmd
}
