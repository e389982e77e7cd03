package agent

import (
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/storage/offsite"
)

// TestOffsiteSummaryAndAlerts: the agent reads the copier's published
// status file (it holds no credentials) and raises an alert when the copy
// never ran, fails, or is more than a day behind.
func TestOffsiteSummaryAndAlerts(t *testing.T) {
	dir := t.TempDir()
	a := &Agent{cfg: &config.Config{Offsite: &config.Offsite{Bucket: "b", StateDir: dir}}}
	if s := (&Agent{cfg: &config.Config{}}).offsiteSummary(); s != nil {
		t.Fatalf("no offsite section, summary %+v", s)
	}
	cases := []struct {
		name  string
		st    *offsite.Status
		alert string
	}{
		{"never ran", nil, "never run"},
		{"healthy", &offsite.Status{LastSuccess: time.Unix(100, 0), Last: offsite.Report{Snapshots: 3, SnapshotsOffsite: 3}}, ""},
		{"failing", &offsite.Status{LastError: "store unreachable", Last: offsite.Report{Snapshots: 3}}, "offsite copy failing: store unreachable"},
		{"behind", &offsite.Status{Last: offsite.Report{Snapshots: 3, SnapshotsOffsite: 1, LagSeconds: 2 * 86400}}, "offsite copy 2d0h behind: 1 of 3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.st != nil {
				if err := offsite.WriteStatus(dir, *tc.st); err != nil {
					t.Fatal(err)
				}
			}
			s := a.offsiteSummary()
			alerts := strings.Join(offsiteAlerts(s), "; ")
			if (tc.alert == "") != (alerts == "") || !strings.Contains(alerts, tc.alert) {
				t.Fatalf("summary %+v: alerts %q, want %q", s, alerts, tc.alert)
			}
			if tc.st != nil && (!s.Published || s.SnapshotsOffsite != tc.st.Last.SnapshotsOffsite) {
				t.Fatalf("summary %+v does not carry the published status %+v", s, tc.st)
			}
		})
	}
}
