// Package simctl is what the tenant-sim command does with the tenant
// simulator: serve it with the files a client needs to reach it (its CA
// and the agent's connection file) and say how to connect, and find a
// running simulator again from that connection file.
package simctl

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// Files are where Serve writes what clients need. ConfigOut may be empty
// (no connection file); CAOut empty puts the CA next to ConfigOut, or in
// the temporary directory.
type Files struct {
	ConfigOut string
	CAOut     string
}

// Serve starts s on listen, writes its CA and connection file, describes
// the tenant on out and serves until ctx ends or the process gets SIGINT
// or SIGTERM.
func Serve(ctx context.Context, out io.Writer, s *tenantsim.Sim, listen string, f Files) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Start(listen); err != nil {
		return fmt.Errorf("%w\nremedy: choose a free port with --listen 127.0.0.1:PORT", err)
	}
	defer s.Close()
	ca := f.CAOut
	switch {
	case ca == "" && f.ConfigOut != "":
		ca = f.ConfigOut + ".ca.pem"
	case ca == "":
		ca = filepath.Join(os.TempDir(), fmt.Sprintf("strongroom-tenantsim-%s-ca.pem", s.TenantID()[:8]))
	}
	ca, err := filepath.Abs(ca)
	if err != nil {
		return err
	}
	if err := os.WriteFile(ca, s.CAPEM(), 0o644); err != nil {
		return fmt.Errorf("write CA certificate: %w", err)
	}
	ac := s.AgentConfig(ca)
	if f.ConfigOut != "" {
		if err := tenantsim.WriteAgentConfig(f.ConfigOut, ac); err != nil {
			return err
		}
	}
	Describe(out, ac, f.ConfigOut, s.Users())
	fmt.Fprintf(out, "faults:           %s\n", FormatFaults(s.Faults()))
	fmt.Fprintln(out, "serving; interrupt to stop")
	<-ctx.Done()
	return nil
}

// Describe writes how to reach the simulator and who its users are.
func Describe(out io.Writer, ac tenantsim.AgentConfig, configOut string, users []tenantsim.UserInfo) {
	fmt.Fprintf(out, "tenant id:        %s\n", ac.TenantID)
	fmt.Fprintf(out, "graph base url:   %s\n", ac.GraphBaseURL)
	fmt.Fprintf(out, "authority host:   %s\n", ac.AuthorityHost)
	fmt.Fprintf(out, "ca file:          %s\n", ac.CAFile)
	fmt.Fprintf(out, "backup app:       client id %s secret %s\n", ac.BackupApp.ClientID, ac.BackupApp.ClientSecret)
	fmt.Fprintf(out, "restore app:      client id %s secret %s\n", ac.RestoreApp.ClientID, ac.RestoreApp.ClientSecret)
	if configOut != "" {
		fmt.Fprintf(out, "agent config:     %s\n", configOut)
	}
	for _, u := range users {
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
}

// Remote connects to the running simulator named by the connection file
// at path (written by Serve), trusting its CA.
func Remote(path string) (*tenantsim.Remote, error) {
	c, err := config.Read(path)
	if err == nil && (c.AuthorityHost == "" || c.CAFile == "") {
		err = fmt.Errorf("configuration %s: authority_host and ca_file are required", path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w\nremedy: start a simulator with: strongroom tenant-sim --config-out %s", err, path)
	}
	ca, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read simulator CA: %w", err)
	}
	hc, err := tenantsim.TrustingClient(ca)
	if err != nil {
		return nil, err
	}
	return &tenantsim.Remote{Root: c.AuthorityHost, Client: hc}, nil
}
