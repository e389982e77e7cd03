package main

import (
	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/demo"
)

func init() { register(newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var o demo.Options
	c := command("demo", "End-to-end demonstration: simulated tenant, vault on temporary disks, backup, deletion, restore", "demo", cobra.NoArgs)
	c.RunE = func(cmd *cobra.Command, _ []string) error {
		o.Log = quietLog()
		return demo.Run(cmd.Context(), cmd.OutOrStdout(), o)
	}
	c.Flags().IntVar(&o.Users, "users", 6, "users in the simulated tenant")
	c.Flags().BoolVar(&o.Keep, "keep", false, "keep the temporary directory (vault, configuration) for inspection")
	return c
}
