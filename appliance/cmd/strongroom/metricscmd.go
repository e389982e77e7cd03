package main

import (
	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/metrics"
)

func init() { register(newMetricsCmd) }

func newMetricsCmd() *cobra.Command {
	cmd := group("metrics", "Print the Prometheus alert rules or the Grafana dashboard built into this binary", "")
	for name, get := range map[string]func() []byte{
		"rules": metrics.Rules, "dashboard": metrics.Dashboard,
		"dashboard-provisioning": metrics.DashboardProvisioning, "datasource-provisioning": metrics.DatasourceProvisioning,
	} {
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
