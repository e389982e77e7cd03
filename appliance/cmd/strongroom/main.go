// Command strongroom is the single binary of the Strongroom backup appliance.
// Each role (agent, warden, console, vault tooling, the local tenant
// simulator) is a subcommand; each file here wires one role's commands to
// the packages that do the work, and help/ holds their manual pages.
package main

import (
	"embed"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/agentctl"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/progress"
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
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	argsAreUsage(root)
	os.Exit(exitCode(root.Execute()))
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// subcommands holds the constructors of every top-level subcommand; each
// command's file adds its own with register in an init function, so the
// files of different roles do not edit one shared list.
var subcommands []func() *cobra.Command

func register(mk ...func() *cobra.Command) { subcommands = append(subcommands, mk...) }

// group makes a command that holds subcommands and shows its help (long
// names its manual page, as for command).
func group(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	c := command(use, short, long, cobra.NoArgs)
	c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	c.AddCommand(subs...)
	return c
}

//go:embed help
var helpFiles embed.FS

// help is a command's long help, from help/<name>.txt: the manual is kept
// as text beside the commands that show it.
func help(name string) string {
	b, err := helpFiles.ReadFile("help/" + name + ".txt")
	if err != nil {
		panic(fmt.Sprintf("no help for %s: %v", name, err))
	}
	return strings.TrimSuffix(string(b), "\n")
}

// usageError marks an error caused by bad command-line input.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// argsAreUsage makes a failed check of the positional arguments of cmd
// and every command below it exit with the usage code.
func argsAreUsage(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		argsAreUsage(sub)
	}
}

// exitCode prints err with what to do about it and returns the exit code
// that says what kind of error it is.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "strongroom:", err)
	adv := agentctl.Advise(err, vault.Remedy(err))
	if adv.Check != "" {
		fmt.Fprintln(os.Stderr, "  check:", adv.Check)
	}
	if adv.Fix != "" {
		fmt.Fprintln(os.Stderr, "  what to do:", adv.Fix)
	}
	var ue usageError
	var ou outcome.Usage
	var od outcome.Degraded
	switch {
	case errors.As(err, &ue) || errors.As(err, &ou):
		return exitUsage
	case adv.Refused: // the agent refused the request as given
		return exitUsage
	case errors.As(err, &od):
		return exitDegraded
	}
	return exitFailure
}

// snapshotFirst checks the positional arguments with check and then
// refuses an empty SNAPSHOT, the first of them (an empty string, an unset
// shell variable): it is a mistake, not a request for the latest
// snapshot. list is the command that lists the snapshots.
func snapshotFirst(list string, check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return err
		}
		return snapshotArg(args[0], list)
	}
}

func snapshotArg(ref, list string) error {
	if strings.TrimSpace(ref) == "" {
		return usageError{fmt.Errorf("no snapshot given: name one (see '%s') or say 'latest'", list)}
	}
	return nil
}

// output is where a command writes its answer: JSON with --json. Long
// work shows its progress on stderr: a bar when stdout and stderr are
// terminals and no JSON is asked for, else a line every few seconds.
func output(cmd *cobra.Command, asJSON bool) outcome.Output {
	o := outcome.Output{W: cmd.OutOrStdout(), JSON: asJSON, Progress: cmd.ErrOrStderr()}
	o.Bar = !asJSON && progress.Terminal(o.W) && progress.Terminal(o.Progress)
	return o
}

// jsonFlag gives cmd the --json flag.
func jsonFlag(cmd *cobra.Command, asJSON *bool) *cobra.Command {
	cmd.Flags().BoolVar(asJSON, "json", false, "print JSON")
	return cmd
}

// command is a command's line: how it is called (use), what it does in a
// line (short) and in its manual page (help/<long>.txt, none when long is
// ""), and the positional arguments it takes.
func command(use, short, long string, args cobra.PositionalArgs) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: args}
	if long != "" {
		c.Long = help(long)
	}
	return c
}
