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
		Long: `Runs the product's main job end to end with real parts and nothing to set up:
a simulated Microsoft 365 tenant served over HTTPS, a vault on four temporary
disk directories, a full backup through Microsoft Graph, then the tenant
changes (a user deletes the folder "Signed Contracts", everyone receives new
mail), an incremental backup, a restore of the deleted folder from the earlier
restore point, and a byte-for-byte check of every restored message against
the original. Prints a short report; exits 1 if any check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Log = quietLog()
			return demo.Run(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().IntVar(&o.Users, "users", 6, "users in the simulated tenant")
	cmd.Flags().BoolVar(&o.Keep, "keep", false, "keep the temporary directory (vault, configuration) for inspection")
	return cmd
}
