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
		{name: "no secret", yaml: "tenant_id: t\nbackup_app: {client_id: a}\n", wantErr: "client_secret or certificate_file"},
		{name: "typo in a key", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\nworkerz: 3\n", wantErr: "workerz"},
		{name: "bad duration", yaml: "tenant_id: t\nbackup_app: {client_id: a, client_secret: s}\nschedule: {interval: soon}\n", wantErr: "use forms like"},
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
