// Command strongroom is the single binary of the Strongroom backup appliance.
// Each role (agent, warden, console, vault tooling, the local tenant
// simulator) is a subcommand.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/vaultctl"

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
	root := newRootCmd()
	err := root.Execute()
	os.Exit(exitCode(err))
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "strongroom",
		Short:         "Immutable on-premises backup appliance for Microsoft 365",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCmd())
	for _, mk := range subcommands {
		root.AddCommand(mk())
	}
	return root
}

// subcommands holds the constructors of every top-level subcommand; each
// command's file adds its own with register in an init function, so the
// files of different roles do not edit one shared list.
var subcommands []func() *cobra.Command

func register(mk func() *cobra.Command) { subcommands = append(subcommands, mk) }

// usageError marks an error caused by bad command-line input.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

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
	var vu vaultctl.Usage
	if errors.As(err, &ue) || errors.As(err, &vu) {
		return exitUsage
	}
	var ce interface{ exitCode() int } // e.g. exitDegraded
	if errors.As(err, &ce) {
		return ce.exitCode()
	}
	var uh vaultctl.Unhealthy
	if errors.As(err, &uh) {
		return exitDegraded
	}
	return exitFailure
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "strongroom", version)
		},
	}
}
