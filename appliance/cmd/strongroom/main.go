// Command strongroom is the single binary of the Strongroom backup appliance.
// Each role (agent, warden, console, vault tooling, the local tenant
// simulator) is a subcommand; each file here wires one role's commands to
// the packages that do the work.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/storage/vault"
)

// Exit codes, documented in README.md.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitDegraded = 3
)

func main() {
	root := &cobra.Command{
		Use:           "strongroom",
		Short:         "Immutable on-premises backup appliance for Microsoft 365",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), "strongroom", version) },
	})
	for _, mk := range subcommands {
		root.AddCommand(mk())
	}
	os.Exit(exitCode(root.Execute()))
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// subcommands holds the constructors of every top-level subcommand; each
// command's file adds its own with register in an init function, so the
// files of different roles do not edit one shared list.
var subcommands []func() *cobra.Command

func register(mk ...func() *cobra.Command) { subcommands = append(subcommands, mk...) }

// usageError marks an error caused by bad command-line input.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode prints err with what to do about it and returns the exit code
// that says what kind of error it is.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "strongroom:", err)
	fix := vault.Remedy(err)
	var re *api.RemoteError // an error the agent daemon reported over its socket
	if errors.As(err, &re) && re.Remedy != "" {
		fix = re.Remedy
	}
	if fix != "" {
		fmt.Fprintln(os.Stderr, "  what to do:", fix)
	}
	var ue usageError
	var ou outcome.Usage
	var od outcome.Degraded
	switch {
	case errors.As(err, &ue) || errors.As(err, &ou):
		return exitUsage
	case errors.As(err, &od):
		return exitDegraded
	}
	return exitFailure
}

// flagErrorsAreUsage makes bad flags of cmd and its subcommands exit with
// the usage code.
func flagErrorsAreUsage(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
}

// usageArgs wraps a cobra positional-argument check so that its failure
// exits with the usage code.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

// snapshotArg refuses an empty snapshot argument (an empty string, an
// unset shell variable): it is a mistake, not a request for the latest
// snapshot. list is the command that lists the snapshots.
func snapshotArg(ref, list string) error {
	if strings.TrimSpace(ref) == "" {
		return usageError{fmt.Errorf("no snapshot given: name one (see '%s') or say 'latest'", list)}
	}
	return nil
}

// jsonFlag gives cmd the --json flag.
func jsonFlag(cmd *cobra.Command, asJSON *bool) *cobra.Command {
	cmd.Flags().BoolVar(asJSON, "json", false, "print JSON")
	return cmd
}
