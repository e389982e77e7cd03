package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	cases := []struct {
		name, yaml, wantErr string
		check               func(t *testing.T, c *Config)
	}{
		{name: "simulator output as it is", yaml: "tenant_id: t1\ngraph_base_url: https://127.0.0.1:1/v1.0\nca_file: ca.pem\nbackup_app: {client_id: a, client_secret: s}\n",
			check: func(t *testing.T, c *Config) {
				if !filepath.IsAbs(c.CAFile) || c.Schedule.Interval.D() != DefaultInterval || c.Retention.Audit.D() != DefaultAudit {
					t.Fatalf("defaults or relative paths not applied: %+v", c)
				}
			}},
		{name: "days and years", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\nretention: {rollback: 14d, audit: 1y}\n",
			check: func(t *testing.T, c *Config) {
				if c.Retention.Rollback.D() != 14*24*time.Hour || c.Retention.Audit.D() != 365*24*time.Hour {
					t.Fatalf("retention = %+v", c.Retention)
				}
			}},
		{name: "missing tenant", yaml: "backup_app: {client_id: a, client_secret: s}\n", wantErr: "tenant_id is missing"},
		{name: "no secret", yaml: "tenant_id: t\nbackup_app: {client_id: a}\n", wantErr: "client_secret, client_secret_file or certificate_file"},
		{name: "typo in a key", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\nworkerz: 3\n", wantErr: "workerz"},
		{name: "bad duration", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\nschedule: {interval: soon}\n", wantErr: "use forms like"},
		{name: "offsite section", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\noffsite: {endpoint: https://s3.example, bucket: b, access_key: k, secret_key_file: secret, bandwidth_limit: 20MB}\n",
			check: func(t *testing.T, c *Config) {
				o := c.Offsite
				if o == nil || !filepath.IsAbs(o.SecretKeyFile) || o.Interval.D() != DefaultOffsiteInterval || o.StateDir != ApplianceOffsiteDir {
					t.Fatalf("offsite section not resolved and defaulted: %+v", o)
				}
			}},
		{name: "offsite without credentials", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\noffsite: {endpoint: https://s3.example, bucket: b}\n", wantErr: "offsite needs endpoint, bucket, access_key and secret_key_file"},
		{name: "offsite bad bandwidth", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\noffsite: {endpoint: e, bucket: b, access_key: k, secret_key_file: s, bandwidth_limit: fast}\n", wantErr: "offsite.bandwidth_limit"},
		{name: "audit shorter than rollback", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\nretention: {rollback: 60d, audit: 30d}\n", wantErr: "retention.audit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "strongroom.yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o600)
			c, err := Load(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Load error = %v, want it to mention %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// TestRead: the vault commands and the console read the same file as the
// agent, through Read: keys of other roles are ignored, nothing is
// checked, relative paths are taken from the file's directory and the
// defaults are those of Load.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "strongroom.yaml")
	yaml := "vault:\n  disks: [disk1, /abs/disk2]\n  key_file: recovery.key\nretention: {rollback: 14d}\nother_role:\n  anything: 1\n"
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(dir, "disk1"), "/abs/disk2"}; strings.Join(c.Vault.Disks, ",") != strings.Join(want, ",") {
		t.Errorf("disks = %v, want %v", c.Vault.Disks, want)
	}
	if c.Vault.KeyFile != filepath.Join(dir, "recovery.key") {
		t.Errorf("key file = %q, want it beside the configuration", c.Vault.KeyFile)
	}
	if c.Retention.Rollback.D() != 14*24*time.Hour || c.Retention.Audit.D() != DefaultAudit {
		t.Errorf("retention = %+v, want 14d and the default audit window", c.Retention)
	}
	if c.Path() != p {
		t.Errorf("Path() = %q, want %q", c.Path(), p)
	}
	// The same file is no agent configuration: Load refuses it, naming the
	// file and the key it does not know.
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "other_role") {
		t.Errorf("Load of a vault-only file: %v; want an error naming %s and other_role", err, p)
	}

	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, nil, 0o600)
	if c, err := Read(empty); err != nil || c.APISocket != DefaultSocket {
		t.Errorf("Read of an empty file = %+v, %v; want the defaults", c, err)
	}
	for name, content := range map[string]string{"bad.yaml": "vault: [not, a, map]\n", "missing.yaml": ""} {
		path := filepath.Join(dir, name)
		if content != "" {
			os.WriteFile(path, []byte(content), 0o600)
		}
		if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Read(%s) = %v; want an error naming the file", name, err)
		}
	}
}

// TestDurationLimitsInTheFile: the configuration file's durations are
// checked like the CLI's (units.ParseDuration).
func TestDurationLimitsInTheFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "strongroom.yaml")
	os.WriteFile(p, []byte("tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\nretention: {rollback: 30d, audit: 1000000y}\n"), 0o600)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "more than 100 years") {
		t.Errorf("Load with audit: 1000000y: %v", err)
	}
}

// TestSealedSecretsNamedAsCredentials guards the appliance's
// configuration, whose secrets are the units' credentials: inside a unit
// they become files in its credentials directory; elsewhere they stay as
// written (and are not taken for paths beside the configuration).
func TestSealedSecretsNamedAsCredentials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "strongroom.yaml")
	os.WriteFile(path, []byte(`tenant_id: t
backup_app:
  client_id: a
  client_secret_file: ${CREDENTIALS_DIRECTORY}/backup-app-secret
vault:
  disks: [d1]
  key_file: ${CREDENTIALS_DIRECTORY}/recovery-key
offsite:
  endpoint: https://s3.example
  bucket: b
  access_key: k
  secret_key_file: ${CREDENTIALS_DIRECTORY}/offsite-secret
`), 0o600)

	creds := t.TempDir()
	t.Setenv("CREDENTIALS_DIRECTORY", creds)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Vault.KeyFile != filepath.Join(creds, "recovery-key") || c.BackupApp.ClientSecretFile != filepath.Join(creds, "backup-app-secret") ||
		c.Offsite.SecretKeyFile != filepath.Join(creds, "offsite-secret") {
		t.Errorf("in a unit: key %q, client secret %q, offsite %q", c.Vault.KeyFile, c.BackupApp.ClientSecretFile, c.Offsite.SecretKeyFile)
	}

	t.Setenv("CREDENTIALS_DIRECTORY", "")
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	if c.Vault.KeyFile != "${CREDENTIALS_DIRECTORY}/recovery-key" || c.BackupApp.ClientSecretFile != "${CREDENTIALS_DIRECTORY}/backup-app-secret" {
		t.Errorf("outside a unit: key %q, client secret %q", c.Vault.KeyFile, c.BackupApp.ClientSecretFile)
	}
}
