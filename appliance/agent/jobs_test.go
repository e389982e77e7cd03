package agent_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// gauge is an Observer that keeps the JobRunning gauge.
type gauge struct {
	running, low atomic.Int64
}

func (g *gauge) Request(string, int)                                         {}
func (g *gauge) Throttled(string, time.Duration)                             {}
func (g *gauge) BackupStarted(string)                                        {}
func (g *gauge) BackupFinished(string, string, time.Duration, int, int, int) {}
func (g *gauge) SetCoverage(string, int, int, int)                           {}
func (g *gauge) ScrubFinished(int, int)                                      {}
func (g *gauge) RestoreTest(bool, int, int)                                  {}
func (g *gauge) RetentionRefused()                                           {}
func (g *gauge) JobRunning(d int) {
	if n := g.running.Add(int64(d)); n < g.low.Load() {
		g.low.Store(n)
	}
}

// TestAgentConcurrentJobs guards the job status: a restore and a restore
// test that run while a backup runs show beside it and end without
// ending the backup's status or its count in the JobRunning gauge.
func TestAgentConcurrentJobs(t *testing.T) {
	sim, a, _ := newAgent(t, 3, tenantsim.Config{})
	ctx := context.Background()
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	g := &gauge{}
	agent.SetObserver(a, g)
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	agent.SetSinkWrapper(a, func(s workloads.Sink) workloads.Sink {
		return hookSink{Sink: s, before: func(vault.Item) error {
			once.Do(func() { close(held); <-release })
			return nil
		}}
	})
	done := make(chan error, 1)
	go func() { _, err := a.Backup(ctx, agent.BackupRequest{}); done <- err }()
	<-held
	victim := firstMailboxUser(sim)
	if _, err := a.Restore(ctx, agent.RestoreRequest{Selection: agent.Selection{Snapshot: "latest", User: victim.UPN, Kind: "mail", Folder: "Inbox"},
		TargetFolder: "Restored during backup"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.RestoreTest(ctx, 5); err != nil {
		t.Fatal(err)
	}
	st, err := a.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Job == nil || st.Job.Kind != "backup" || len(st.Jobs) != 1 {
		t.Errorf("status while the backup runs, after a restore and a restore test: job %+v, jobs %+v; want the backup", st.Job, st.Jobs)
	}
	if n := g.running.Load(); n != 1 {
		t.Errorf("JobRunning gauge %d while the backup runs, want 1", n)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n, low := g.running.Load(), g.low.Load(); n != 0 || low < 0 {
		t.Errorf("JobRunning gauge %d after every job ended (lowest %d), want 0", n, low)
	}
	if st, _ := a.Status(ctx); st.Job != nil || len(st.Jobs) != 0 {
		t.Errorf("jobs still shown after every job ended: %+v", st.Jobs)
	}
}
