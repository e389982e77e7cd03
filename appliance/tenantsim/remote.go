package tenantsim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// AgentConfig is the connection file `strongroom tenant-sim --config-out`
// writes and the agent reads: the keys are a contract with the agent.
type AgentConfig struct {
	TenantID      string        `yaml:"tenant_id"`
	GraphBaseURL  string        `yaml:"graph_base_url"`
	AuthorityHost string        `yaml:"authority_host"`
	CAFile        string        `yaml:"ca_file"`
	BackupApp     AgentAppCreds `yaml:"backup_app"`
	RestoreApp    AgentAppCreds `yaml:"restore_app"`
	// ResourceUnits is the simulator's OneDrive and SharePoint budget per
	// minute for the agent to pace itself to; -1 when it sets none.
	ResourceUnits int `yaml:"resource_units_per_minute"`
}

// AgentAppCreds are one application's client credentials.
type AgentAppCreds struct {
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
}

// AgentConfig returns the connection file for a started Sim whose CA
// certificate has been written to caFile.
func (s *Sim) AgentConfig(caFile string) AgentConfig {
	return AgentConfig{
		TenantID: s.tenantID, GraphBaseURL: s.baseURL, AuthorityHost: s.authority, CAFile: caFile,
		BackupApp:     AgentAppCreds{s.backup.ClientID, s.backup.ClientSecret},
		RestoreApp:    AgentAppCreds{s.restore.ClientID, s.restore.ClientSecret},
		ResourceUnits: s.resourceUnits(),
	}
}

// resourceUnits is the resource-unit budget per minute the simulator
// enforces, -1 for none.
func (s *Sim) resourceUnits() int {
	if t := s.throttle.cfg; t.Mode != ThrottleOff && t.ResourceUnits > 0 {
		return t.ResourceUnits
	}
	return -1
}

// WriteAgentConfig writes c as YAML to path, readable only by its owner
// since it holds client secrets.
func WriteAgentConfig(path string, c AgentConfig) error {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode agent config: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("write agent config %s: %w", path, err)
	}
	return nil
}

// ReadAgentConfig reads a file written by WriteAgentConfig.
func ReadAgentConfig(path string) (AgentConfig, error) {
	var c AgentConfig
	b, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("read agent config: %w", err)
	}
	if err := yaml.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parse agent config %s: %w", path, err)
	}
	if c.AuthorityHost == "" || c.CAFile == "" {
		return c, fmt.Errorf("agent config %s: authority_host and ca_file are required", path)
	}
	return c, nil
}

// Remote drives a running simulator through its /_sim/ endpoints.
type Remote struct {
	// Root is the simulator's root URL, e.g. https://127.0.0.1:PORT/.
	Root string
	// Client must trust the simulator's CA.
	Client *http.Client
}

func (r *Remote) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(r.Root, "/")+"/_sim/"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.Client.Do(req)
	if err != nil {
		return fmt.Errorf("simulator %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("simulator %s: read answer: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		_ = json.Unmarshal(b, &e)
		return fmt.Errorf("simulator %s: %s: %s", path, resp.Status, e.Error.Message)
	}
	return json.Unmarshal(b, out)
}

// Apply runs a scenario on the remote simulator.
func (r *Remote) Apply(ctx context.Context, sc Scenario) (ScenarioResult, error) {
	var res ScenarioResult
	return res, r.do(ctx, http.MethodPost, "scenario", sc, &res)
}

// Counters reads the remote simulator's counters.
func (r *Remote) Counters(ctx context.Context) (Counters, error) {
	var c Counters
	return c, r.do(ctx, http.MethodGet, "counters", nil, &c)
}

// DumpMailbox reads a mailbox's ground truth from the remote simulator.
func (r *Remote) DumpMailbox(ctx context.Context, user string) (MailboxDump, error) {
	var d MailboxDump
	return d, r.do(ctx, http.MethodGet, "dump/mailbox/"+user, nil, &d)
}

// SetFaults replaces the remote simulator's faults.
func (r *Remote) SetFaults(ctx context.Context, f Faults) (Faults, error) {
	var got Faults
	return got, r.do(ctx, http.MethodPost, "faults", f, &got)
}

// TrustingClient returns an HTTP client that trusts only the simulator's
// CA, with connection reuse sized for load tests.
func TrustingClient(caPEM []byte) (*http.Client, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("simulator CA PEM holds no certificate")
	}
	return &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConns:        512,
			MaxIdleConnsPerHost: 512,
			IdleConnTimeout:     30 * time.Second,
		},
	}, nil
}

// DumpDrive reads a drive's ground truth (by drive id, or a user's
// OneDrive by user id or UPN) from the remote simulator.
func (r *Remote) DumpDrive(ctx context.Context, key string) (DriveDump, error) {
	var d DriveDump
	return d, r.do(ctx, http.MethodGet, "dump/drive/"+url.PathEscape(key), nil, &d)
}

// DumpDriveAt reads a drive's ground truth as it stood at change
// sequence number seq (see Sim.DumpDriveAt) from the remote simulator.
func (r *Remote) DumpDriveAt(ctx context.Context, key string, seq uint64) (DriveDump, error) {
	var d DriveDump
	return d, r.do(ctx, http.MethodGet, "dump/drive/"+url.PathEscape(key)+"?at="+strconv.FormatUint(seq, 10), nil, &d)
}

// Faults reads the faults the remote simulator injects.
func (r *Remote) Faults(ctx context.Context) (Faults, error) {
	var f Faults
	return f, r.do(ctx, http.MethodGet, "faults", nil, &f)
}

// Teams lists the remote simulator's teams and groups.
func (r *Remote) Teams(ctx context.Context) ([]TeamInfo, error) {
	var t []TeamInfo
	return t, r.do(ctx, http.MethodGet, "dump/teams", nil, &t)
}

// DumpChannel reads a channel's ground truth (see Sim.DumpChannel) from
// the remote simulator.
func (r *Remote) DumpChannel(ctx context.Context, team, channel string) (ChannelDump, error) {
	var d ChannelDump
	return d, r.do(ctx, http.MethodGet, "dump/channel/"+url.PathEscape(team)+"/"+url.PathEscape(channel), nil, &d)
}

// DumpGroupThreads reads a group's conversation threads (see
// Sim.DumpGroupThreads) from the remote simulator.
func (r *Remote) DumpGroupThreads(ctx context.Context, group string) ([]GroupThreadDump, error) {
	var d []GroupThreadDump
	return d, r.do(ctx, http.MethodGet, "dump/group-threads/"+url.PathEscape(group), nil, &d)
}
