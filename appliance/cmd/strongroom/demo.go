package main

import (
	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/demo"
)

func init() { register(newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var o demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "End-to-end demonstration: simulated tenant, vault on temporary disks, backup, deletion, restore",
		Long:  help("demo"),
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Log = quietLog()
			return demo.Run(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().IntVar(&o.Users, "users", 6, "users in the simulated tenant")
	cmd.Flags().BoolVar(&o.Keep, "keep", false, "keep the temporary directory (vault, configuration) for inspection")
	return cmd
}
