package bench

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
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

// channelTruth counts the channels and the threads and messages (threads
// and replies) of every channel of every team of the tenant cfg makes.
func channelTruth(t *testing.T, cfg tenantsim.Config) (channels, threads, messages int) {
	t.Helper()
	s, err := tenantsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tm := range s.Teams() {
		for _, name := range tm.Channels {
			d, err := s.DumpChannel(tm.ID, name)
			if err != nil {
				t.Fatal(err)
			}
			channels++
			for _, m := range d.Messages {
				threads++
				messages += 1 + len(m.Replies)
			}
		}
	}
	return channels, threads, messages
}

// TestTenantTeamsFigures: with busy channels, the full run's channel
// messages are every message of the tenant's channels (the simulator's
// ground truth, counted apart), read in at least a page a channel and
// one a thread; the rates come from those counts, the Teams requests and
// the Teams wall time; the unchanged run reads no message.
func TestTenantTeamsFigures(t *testing.T) {
	o := TenantOptions{Users: 2, Seed: 9, Throttle: "off", Workers: 2, Burst: 1, ChannelMessages: 8, ChannelReplies: 2,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	res, err := Tenant(context.Background(), o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tenantsim.Config{Users: o.Users, Seed: o.Seed}
	cfg.Profile.ChannelMessages, cfg.Profile.ChannelReplies = o.ChannelMessages, o.ChannelReplies
	channels, threads, messages := channelTruth(t, cfg)
	if threads < channels*o.ChannelMessages {
		t.Fatalf("ground truth: %d threads in %d channels; want at least %d a channel", threads, channels, o.ChannelMessages)
	}
	full, unchanged := res.Runs[0], res.Runs[1]
	if full.ChannelMessages != int64(messages) {
		t.Errorf("full run read %d channel messages; the tenant's channels hold %d", full.ChannelMessages, messages)
	}
	if full.MessagePages < int64(channels+threads) || full.TeamsRequests < full.MessagePages {
		t.Errorf("full run: %d message pages, %d Teams requests; want at least a page a channel and a thread (%d)", full.MessagePages, full.TeamsRequests, channels+threads)
	}
	if full.TeamsWall <= 0 || full.TeamsStart <= 0 || full.TeamsStart+full.TeamsWall > full.Wall {
		t.Errorf("Teams wall %.3fs from %.3fs; want within the run's %.3fs", full.TeamsWall, full.TeamsStart, full.Wall)
	}
	near := func(a, b float64) bool { return a > 0 && b > 0 && a/b > 0.999 && a/b < 1.001 }
	m, req := float64(full.ChannelMessages), float64(full.TeamsRequests)
	if !near(full.MessagesPerSecond, m/full.TeamsWall) || !near(full.TeamsPerSecond, req/full.TeamsWall) ||
		!near(full.IdealMessagesPerSecond, float64(full.TeamsLimit)*m/req) ||
		!near(full.TeamsEfficiency, full.MessagesPerSecond/full.IdealMessagesPerSecond) ||
		!near(full.MessagesPerPage, m/float64(full.MessagePages)) {
		t.Errorf("full run's Teams rates do not follow from its counts: %+v", full)
	}
	if unchanged.ChannelMessages != 0 || unchanged.MessagesPerSecond != 0 || unchanged.TeamsRequests == 0 {
		t.Errorf("unchanged run: %d channel messages read (%.1f/s), %d Teams requests; want none read, some requests", unchanged.ChannelMessages, unchanged.MessagesPerSecond, unchanged.TeamsRequests)
	}
	var report bytes.Buffer
	PrintTenant(&report, res)
	for _, want := range []string{"channel messages read", "ideal per second", "% of ideal", "busy channels: 8 threads with 2 replies", "ideal messages/s"} {
		if !strings.Contains(report.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, report.String())
		}
	}
}

// TestTeamsClock: the clock spans unit-level Teams and group requests
// only, and starts anew at each take.
func TestTeamsClock(t *testing.T) {
	var c teamsClock
	t0 := time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
	req := func(path string) *http.Request { return httptest.NewRequest("GET", "https://127.0.0.1"+path, nil) }
	c.observe(req("/v1.0/groups"), "groups", 200, t0, t0.Add(time.Second))                                // the listing: not a unit
	c.observe(req("/v1.0/users/u1/messages"), "mail.messages", 200, t0, t0.Add(9*time.Second))            // not Teams
	c.observe(req("/v1.0/teams/g1/channels"), "teams", 200, t0.Add(2*time.Second), t0.Add(3*time.Second)) // first
	c.observe(req("/v1.0/groups/g1/threads"), "groups", 200, t0.Add(4*time.Second), t0.Add(5*time.Second))
	if first, d := c.take(); d != 3*time.Second || !first.Equal(t0.Add(2*time.Second)) {
		t.Errorf("span %s from %s; want 3s from %s", d, first, t0.Add(2*time.Second))
	}
	if first, d := c.take(); d != 0 || !first.IsZero() {
		t.Errorf("span after take %s from %s; want none", d, first)
	}
}
