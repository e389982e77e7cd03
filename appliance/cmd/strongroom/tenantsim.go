package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

func init() { register(newTenantSimCmd) }

func newTenantSimCmd() *cobra.Command {
	var (
		listen, configOut, caOut, throttle, publicHost string
		users                                          int
		seed                                           int64
	)
	cmd := &cobra.Command{
		Use:   "tenant-sim",
		Short: "Run a local Microsoft 365 tenant that speaks Graph, for tests and demos",
		Long: `tenant-sim serves a generated Microsoft 365 tenant over HTTPS: the identity
endpoints, users, mail (with MIME), contacts, calendars, OneDrive and
SharePoint libraries (with versions), lists, groups, Teams channels and
delta queries, as Microsoft Graph v1.0 does. The same --users and --seed
always generate the same tenant. The TLS certificate is signed by a fresh CA written to a file;
clients must trust it.

It prints the tenant id, the backup and restore app credentials, the CA file
and the Graph base URL, and with --config-out writes them as the YAML file
the agent reads. It runs until interrupted.

Drive a running simulator with the subcommands (scenario, counters, dump,
dump-drive); they find it through the --config-out file.`,
		Example: `  strongroom tenant-sim --listen 127.0.0.1:8443 --users 50 --seed 7 --config-out sim.yaml
  strongroom tenant-sim scenario delete-folder --config sim.yaml --user anna.muller0@contoso-sim.onmicrosoft.com --folder "Signed Contracts"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := tenantsim.New(tenantsim.Config{Users: users, Seed: seed, PublicHost: publicHost, Throttle: tenantsim.Throttle{Mode: tenantsim.ThrottleMode(throttle)}})
			if err != nil {
				return usageError{err}
			}
			if err := s.Start(listen); err != nil {
				return fmt.Errorf("%w\nremedy: choose a free port with --listen 127.0.0.1:PORT", err)
			}
			defer s.Close()
			if caOut == "" {
				caOut = filepath.Join(os.TempDir(), fmt.Sprintf("strongroom-tenantsim-%s-ca.pem", s.TenantID()[:8]))
				if configOut != "" {
					caOut = configOut + ".ca.pem"
				}
			}
			if caOut, err = filepath.Abs(caOut); err != nil {
				return err
			}
			if err := os.WriteFile(caOut, s.CAPEM(), 0o644); err != nil {
				return fmt.Errorf("write CA certificate: %w", err)
			}
			ac := s.AgentConfig(caOut)
			if configOut != "" {
				if err := tenantsim.WriteAgentConfig(configOut, ac); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "tenant id:        %s\n", ac.TenantID)
			fmt.Fprintf(out, "graph base url:   %s\n", ac.GraphBaseURL)
			fmt.Fprintf(out, "authority host:   %s\n", ac.AuthorityHost)
			fmt.Fprintf(out, "ca file:          %s\n", ac.CAFile)
			fmt.Fprintf(out, "backup app:       client id %s secret %s\n", ac.BackupApp.ClientID, ac.BackupApp.ClientSecret)
			fmt.Fprintf(out, "restore app:      client id %s secret %s\n", ac.RestoreApp.ClientID, ac.RestoreApp.ClientSecret)
			if configOut != "" {
				fmt.Fprintf(out, "agent config:     %s\n", configOut)
			}
			for _, u := range s.Users() {
				state := "licensed"
				switch {
				case u.Deleted:
					state = "deleted"
				case !u.Licensed:
					state = "unlicensed"
				case !u.Enabled:
					state = "disabled"
				}
				fmt.Fprintf(out, "user:             %s %s (%s)\n", u.ID, u.UPN, state)
			}
			fmt.Fprintln(out, "serving; interrupt to stop")
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
			select {
			case <-sig:
			case <-cmd.Context().Done():
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:0", "address to serve HTTPS on (port 0 picks a free one)")
	f.StringVar(&publicHost, "public-host", "", "host or IP clients use to reach the simulator, named in the URLs and the certificate (e.g. 10.0.2.2 for a QEMU guest)")
	f.IntVar(&users, "users", 10, "number of users to generate")
	f.Int64Var(&seed, "seed", 1, "generation seed; the same seed gives the same tenant")
	f.StringVar(&configOut, "config-out", "", "write the agent connection file (YAML) here")
	f.StringVar(&caOut, "ca-out", "", "write the CA certificate here (default: next to --config-out, else in the temp dir)")
	f.StringVar(&throttle, "throttle", "off", "throttling profile: off, realistic or strict")
	cmd.AddCommand(newTenantSimScenarioCmd(), newTenantSimReadCmd("counters"), newTenantSimReadCmd("dump"), newTenantSimReadCmd("dump-drive"))
	return cmd
}

// remoteFrom connects to the simulator named by an agent config file.
func remoteFrom(path string) (*tenantsim.Remote, error) {
	if path == "" {
		return nil, usageError{errors.New("--config is required: the file written by tenant-sim --config-out")}
	}
	ac, err := config.Read(path)
	if err == nil && (ac.AuthorityHost == "" || ac.CAFile == "") {
		err = fmt.Errorf("configuration %s: authority_host and ca_file are required", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w\nremedy: start a simulator with: strongroom tenant-sim --config-out %s", err, path)
	}
	ca, err := os.ReadFile(ac.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read simulator CA: %w", err)
	}
	hc, err := tenantsim.TrustingClient(ca)
	if err != nil {
		return nil, err
	}
	return &tenantsim.Remote{Root: ac.AuthorityHost, Client: hc}, nil
}

func printSimJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newTenantSimScenarioCmd() *cobra.Command {
	var config string
	var sc tenantsim.Scenario
	cmd := &cobra.Command{
		Use:   "scenario NAME",
		Short: "Apply a named change to a running simulator",
		Long: `scenario applies a named change to a running tenant simulator and prints what
changed as JSON. Names: delete-folder (--user, --folder), mail-burst (--count,
optional --user), deprovision-user (--user), delete-messages and
move-messages (--user, --folder, --to, --count), ransomware (--user: every
OneDrive file gets a new version of random bytes), delete-files (--user,
--folder, --count: files removed from the OneDrive), delete-library (--site,
--folder for the library, default "Documents"), expire-tokens,
expire-delta-tokens.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := remoteFrom(config)
			if err != nil {
				return err
			}
			sc.Name = args[0]
			res, err := r.Apply(cmd.Context(), sc)
			if err != nil {
				return err
			}
			return printSimJSON(cmd, res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "agent config file written by tenant-sim --config-out")
	f.StringVar(&sc.User, "user", "", "user id or UPN")
	f.StringVar(&sc.Folder, "folder", "", "folder path or name, e.g. \"Inbox/Signed Contracts\"")
	f.StringVar(&sc.To, "to", "", "destination folder for move-messages")
	f.StringVar(&sc.Site, "site", "", "site name or display name for delete-library")
	f.IntVar(&sc.Count, "count", 0, "how many messages")
	return cmd
}

func newTenantSimReadCmd(what string) *cobra.Command {
	var config string
	cmd := &cobra.Command{
		Use:   what,
		Short: "Print the counters of a running simulator",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := remoteFrom(config)
			if err != nil {
				return err
			}
			c, err := r.Counters(cmd.Context())
			if err != nil {
				return err
			}
			return printSimJSON(cmd, c)
		},
	}
	if what == "dump-drive" {
		cmd.Use = "dump-drive DRIVE|USER"
		cmd.Short = "Print a drive's exact content (every version, base64) as JSON"
		cmd.Args = cobra.ExactArgs(1)
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			r, err := remoteFrom(config)
			if err != nil {
				return err
			}
			d, err := r.DumpDrive(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printSimJSON(cmd, d)
		}
	}
	if what == "dump" {
		cmd.Use = "dump USER"
		cmd.Short = "Print a mailbox's exact content (MIME in base64) as JSON"
		cmd.Args = cobra.ExactArgs(1)
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			r, err := remoteFrom(config)
			if err != nil {
				return err
			}
			d, err := r.DumpMailbox(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printSimJSON(cmd, d)
		}
	}
	cmd.Flags().StringVar(&config, "config", "", "agent config file written by tenant-sim --config-out")
	return cmd
}
