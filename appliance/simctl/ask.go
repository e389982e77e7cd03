package simctl

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// AskCommand makes a subcommand that asks the running simulator named by
// its --config (the file tenant-sim --config-out wrote) with ask, and
// prints the answer as JSON.
func AskCommand(use, short string, args cobra.PositionalArgs, ask func(ctx context.Context, r *tenantsim.Remote, args []string) (any, error)) *cobra.Command {
	var config string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			if config == "" {
				return outcome.Usage{Err: errors.New("--config is required: the file written by tenant-sim --config-out")}
			}
			r, err := Remote(config)
			if err != nil {
				return err
			}
			v, err := ask(cmd.Context(), r, args)
			if err != nil {
				return err
			}
			return outcome.JSON(cmd.OutOrStdout(), v)
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "agent config file written by tenant-sim --config-out")
	return cmd
}
