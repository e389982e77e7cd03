// Package sandbox runs the agent in this process against a simulated
// Microsoft 365 tenant, with its vault on four disk directories in a
// temporary directory: what the demo and the tenant benchmark run on, with
// nothing to set up.
package sandbox

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/storage/vault"
)

// Disks is how many disk directories the sandbox's vault has: its layout
// is 2+2, so any two may fail.
const Disks = 4

// Sandbox is an open agent backing up a simulated tenant.
type Sandbox struct {
	// Dir holds the disks, the recovery key, the simulator's CA and the
	// configuration (ConfigFile).
	Dir    string
	Vault  vault.InitResult
	Config *config.Config
	Agent  *agent.Agent
}

// ConfigFile is the name of the configuration file in a sandbox's Dir.
const ConfigFile = "strongroom.yaml"

// New creates a vault on Disks new directories under dir, writes the
// agent's configuration for the started simulator sim (workers mailboxes
// at a time) and opens the agent on it; log receives the agent's log.
func New(dir string, sim *tenantsim.Sim, workers int, log *slog.Logger) (*Sandbox, error) {
	var disks []string
	for i := 1; i <= Disks; i++ {
		d := filepath.Join(dir, fmt.Sprintf("disk%d", i))
		if err := os.MkdirAll(d, 0o750); err != nil {
			return nil, err
		}
		disks = append(disks, d)
	}
	res, err := vault.Init(disks)
	if err != nil {
		return nil, err
	}
	cfg, err := writeConfig(dir, sim, res, disks, workers)
	if err != nil {
		return nil, err
	}
	a, err := agent.New(agent.Options{Config: cfg, Log: log})
	if err != nil {
		return nil, err
	}
	return &Sandbox{Dir: dir, Vault: res, Config: cfg, Agent: a}, nil
}

// writeConfig writes the recovery key, the simulator's CA and the
// configuration into dir, and loads the configuration back as the agent
// reads it.
func writeConfig(dir string, sim *tenantsim.Sim, res vault.InitResult, disks []string, workers int) (*config.Config, error) {
	keyFile := filepath.Join(dir, "recovery.key")
	if err := os.WriteFile(keyFile, []byte(res.RecoveryKey.String()+"\n"), 0o600); err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "tenant-ca.pem")
	if err := os.WriteFile(caFile, sim.CAPEM(), 0o644); err != nil {
		return nil, err
	}
	ac := sim.AgentConfig(caFile)
	c := config.Config{
		TenantID: ac.TenantID, GraphBaseURL: ac.GraphBaseURL, AuthorityHost: ac.AuthorityHost, CAFile: ac.CAFile,
		BackupApp:  graph.App{ClientID: ac.BackupApp.ClientID, ClientSecret: ac.BackupApp.ClientSecret},
		RestoreApp: &graph.App{ClientID: ac.RestoreApp.ClientID, ClientSecret: ac.RestoreApp.ClientSecret},
		Vault:      config.Vault{Disks: disks, KeyFile: keyFile},
		Workers:    workers,
		APISocket:  filepath.Join(dir, "agent.sock"),
		// Paced to the simulator's own budget, or not at all.
		ResourceUnits: ac.ResourceUnits,
	}
	path := filepath.Join(dir, ConfigFile)
	if err := c.Save(path); err != nil {
		return nil, err
	}
	return config.Load(path)
}

// Close closes the agent. The directory stays: its owner removes it.
func (s *Sandbox) Close() error { return s.Agent.Close() }
