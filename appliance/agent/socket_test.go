package agent_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/api"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestAgentBackupOutlivesClient guards a backup started over the socket:
// when the CLI that asked for it goes away mid-run, the daemon still
// finishes the run and commits its restore point.
func TestAgentBackupOutlivesClient(t *testing.T) {
	_, a, dir := newAgent(t, 3, tenantsim.Config{})
	sock := filepath.Join(dir, "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go api.Serve(l, api.NewLocal(a), api.Operators(os.Getuid()))
	defer l.Close()
	remote, err := api.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, hangUp := context.WithCancel(context.Background())
	var once sync.Once
	agent.SetSinkWrapper(a, func(s workloads.Sink) workloads.Sink {
		return hookSink{Sink: s, before: func(vault.Item) error {
			once.Do(func() {
				hangUp()
				time.Sleep(200 * time.Millisecond) // the server sees the client gone
			})
			return nil
		}}
	})
	if _, err := remote.Backup(ctx, api.BackupRequest{}); err == nil {
		t.Fatal("the client's call returned no error although it hung up")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := a.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Jobs) == 0 && st.LastRun != nil {
			if st.LastRun.Snapshot == "" || st.LastRun.Result != "success" {
				t.Fatalf("the run ended without a restore point once its client went away: %s %v", st.LastRun.Result, st.LastRun.Errors)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the backup did not finish")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
