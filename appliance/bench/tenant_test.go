package bench

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestTenant: three backups of a small simulated tenant; the unchanged one
// downloads nothing new, the burst one exactly the mails the burst made,
// and the report shows a column for each.
func TestTenant(t *testing.T) {
	var progress bytes.Buffer
	res, err := Tenant(context.Background(), TenantOptions{Users: 2, Seed: 3, Throttle: "off", Workers: 2, Burst: 2,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 3 {
		t.Fatalf("runs: %+v", res.Runs)
	}
	full, unchanged, burst := res.Runs[0], res.Runs[1], res.Runs[2]
	if full.Name != "full" || full.Items == 0 || full.NewItems != full.Items || full.Result != "success" {
		t.Errorf("full run: %+v", full)
	}
	if unchanged.NewItems != 0 || unchanged.Items != full.Items || unchanged.Bytes != 0 {
		t.Errorf("unchanged run: %+v; want the full run's %d items, none new", unchanged, full.Items)
	}
	if res.BurstCreated == 0 || burst.NewItems != res.BurstCreated || burst.Items != full.Items+res.BurstCreated {
		t.Errorf("burst run: %+v; want the %d mails of the burst new", burst, res.BurstCreated)
	}
	if full.SimRequests <= 0 || full.MailboxRequests <= 0 || full.SimRequests < full.MailboxRequests || res.Mailboxes < 2 {
		t.Errorf("request counts: %+v, %d mailboxes", full, res.Mailboxes)
	}
	if full.TeamsRequests <= 0 || full.TeamsThreads <= 0 || unchanged.TeamsThreads != full.TeamsThreads || full.TeamsLimit != 20 {
		t.Errorf("Teams figures: %d requests, %d threads (unchanged run %d), limit %d", full.TeamsRequests, full.TeamsThreads, unchanged.TeamsThreads, full.TeamsLimit)
	}
	for _, name := range []string{"full", "unchanged", "burst"} {
		if !strings.Contains(progress.String(), name+" ") {
			t.Errorf("progress lacks the %s run:\n%s", name, progress.String())
		}
	}
	var report bytes.Buffer
	PrintTenant(&report, res)
	for _, want := range []string{"bench tenant: 2 users", "efficiency (ideal/wall)", "downloaded", "mail burst:", "Ideal wall time", "Teams and group requests", "channel threads per second"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
}
