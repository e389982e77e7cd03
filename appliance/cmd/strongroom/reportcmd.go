package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/metrics"
	"github.com/strongroom/strongroom/appliance/units"
)

func init() {
	register(newReportCmd)
	register(newMetricsCmd)
	register(newDeleteCmd)
}

func newDeleteCmd() *cobra.Command {
	var f agentFlags
	return withAgentFlags(&f, &cobra.Command{
		Use:   "delete SNAPSHOT",
		Short: "Ask to delete a restore point (refused while it is retention-locked)",
		Long: `Deleting a restore point before its retain-until is refused, whoever asks,
and the refusal is counted in strongroom_retention_refusals_total. After it,
expiry is done by the warden (strongroom warden expire), never by the agent.`,
		Args: snapshotFirst(cobra.ExactArgs(1)),
		RunE: f.run(func(cmd *cobra.Command, args []string, svc api.Service) error {
			return svc.DeleteSnapshot(cmd.Context(), args[0])
		}),
	})
}

func withAgentFlags(f *agentFlags, cmd *cobra.Command) *cobra.Command {
	f.register(cmd)
	return cmd
}

func newReportCmd() *cobra.Command {
	var f agentFlags
	var since string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Protection report for an auditor or customer: backups, failures, restore tests, retention",
		Args:  cobra.NoArgs,
		RunE: f.run(func(cmd *cobra.Command, _ []string, svc api.Service) error {
			d, err := config.ParseDuration(since)
			if err != nil {
				return usageError{fmt.Errorf("--since: %w", err)}
			}
			st, err := svc.Status(cmd.Context())
			if err != nil {
				return err
			}
			r, err := svc.Report(cmd.Context(), st.Now.Add(-d))
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), r)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Strongroom protection report, %s to %s\n", r.Since.Format("2006-01-02 15:04"), r.Generated.Format("2006-01-02 15:04 MST"))
			fmt.Fprintf(w, "tenant %s, vault %s (layout %s)\n\n", r.Tenant, r.VaultID, r.Layout)
			fmt.Fprintf(w, "backups: %d (%d complete, %d partial)\n", len(r.Backups), r.Successful, r.Partial)
			for _, b := range r.Backups {
				fmt.Fprintf(w, "  %s  %-8s  %6d items  %10s  mailboxes %s, failed %s, kept until %s\n", b.Created.Format("2006-01-02 15:04"), b.Result, b.Items,
					units.Bytes(b.Bytes), b.Mailboxes, b.Failed, b.RetainUntil.Format("2006-01-02"))
			}
			if r.LastSuccess != nil {
				fmt.Fprintf(w, "last complete backup: %s (%s ago)\n", r.LastSuccess.Created.Format("2006-01-02 15:04"), units.Age(time.Duration(r.LastSuccess.AgeSeconds*float64(time.Second))))
			}
			fmt.Fprintf(w, "\nrestore tests: %d run, %d passed\n", len(r.RestoreTests), r.RestoreTestsOK)
			for _, t := range r.RestoreTests {
				res := "passed"
				if !t.OK {
					res = fmt.Sprintf("FAILED (%d items)", len(t.Failures))
				}
				fmt.Fprintf(w, "  %s  %d items verified  %s\n", t.At.Format("2006-01-02 15:04"), t.Items, res)
			}
			fmt.Fprintf(w, "\nretention: every restore point %s, first of each month %s; %d snapshots locked, until %s at the latest; oldest restore point %s\n",
				units.Window(r.Retention.Rollback), units.Window(r.Retention.Audit), r.Retention.LockedSnapshots, r.Retention.LockedUntil.Format("2006-01-02"), r.Retention.Oldest.Format("2006-01-02"))
			if len(r.Alerts) > 0 {
				fmt.Fprintln(w, "\nopen alerts:")
				for _, a := range r.Alerts {
					fmt.Fprintln(w, "  -", a)
				}
			}
			return nil
		}),
	}
	f.register(cmd)
	cmd.Flags().StringVar(&since, "since", "30d", "period to cover, e.g. 1d, 30d, 1y")
	return cmd
}

func newMetricsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "metrics",
		Short: "Print the Prometheus alert rules or the Grafana dashboard built into this binary",
	}
	for name, get := range map[string]func() []byte{
		"rules": metrics.Rules, "dashboard": metrics.Dashboard,
		"dashboard-provisioning": metrics.DashboardProvisioning, "datasource-provisioning": metrics.DatasourceProvisioning,
	} {
		get := get
		cmd.AddCommand(&cobra.Command{
			Use:   name,
			Short: "Print the " + name + " file",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				_, err := cmd.OutOrStdout().Write(get())
				return err
			},
		})
	}
	return cmd
}
