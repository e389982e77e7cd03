package onedrive_test

import (
	"bytes"
	"context"
	"errors"
	"path"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

type env struct {
	*workloadtest.Env
	t    *testing.T
	sim  *tenantsim.Sim
	g    *graph.Client
	v    *vault.Vault
	user workloads.Unit
}

func newEnv(t *testing.T, cfg tenantsim.Config) *env {
	w := workloadtest.New(t, cfg)
	return &env{Env: w, t: t, sim: w.Sim, g: w.Backup, v: w.V, user: w.User}
}

func (e *env) read(it vault.Item) ([]byte, error) { return e.Read(it) }

func (e *env) items(s *vault.Snapshot) []vault.Item { return e.Items(s) }

// run backs the user's drive up on top of prev and commits a snapshot.
func (e *env) run(prev *vault.Snapshot, o onedrive.Options) (workloads.Result, vault.Snapshot) {
	e.t.Helper()
	return e.Run(prev, func(ctx context.Context, sink workloads.Sink, p workloads.Previous) (workloads.Result, error) {
		return onedrive.BackupDrive(ctx, e.g, sink, p, e.user, o)
	})
}

// check asserts that s holds exactly the drive's current files, byte for
// byte, each under its current folder and name, and every earlier version
// of each (unless the run left versions out).
func (e *env) check(s vault.Snapshot, versions bool) {
	e.t.Helper()
	d, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	files := map[string]vault.Item{}
	vers := map[string]vault.Item{}
	for _, it := range e.items(&s) {
		switch it.Meta["kind"] {
		case "file":
			if _, dup := files[it.Meta["item_id"]]; dup {
				e.t.Fatalf("file %s stored twice", it.Meta["item_id"])
			}
			files[it.Meta["item_id"]] = it
		case "file-version":
			vers[it.Meta["item_id"]+"/"+it.Meta["version"]] = it
		}
	}
	want := 0
	for _, di := range d.Items {
		if di.Folder {
			continue
		}
		want++
		it, ok := files[di.ID]
		if !ok {
			e.t.Errorf("file %s (%s) not in the snapshot", di.Path, di.ID)
			continue
		}
		if got := strings.TrimPrefix(path.Join(it.Meta["folder"], it.Meta["name"]), "/"); got != di.Path {
			e.t.Errorf("file %s stored as %s", di.Path, got)
		}
		cur := di.Versions[len(di.Versions)-1]
		if b, err := e.read(it); err != nil || !bytes.Equal(b, cur.Content) {
			e.t.Errorf("file %s: stored content differs (%d bytes, want %d; %v)", di.Path, len(b), len(cur.Content), err)
		}
		if !versions {
			continue
		}
		for _, v := range di.Versions[:len(di.Versions)-1] {
			vi, ok := vers[di.ID+"/"+v.ID]
			if !ok {
				e.t.Errorf("file %s: version %s not in the snapshot", di.Path, v.ID)
				continue
			}
			if b, err := e.read(vi); err != nil || !bytes.Equal(b, v.Content) {
				e.t.Errorf("file %s version %s: stored content differs (%v)", di.Path, v.ID, err)
			}
		}
	}
	if len(files) != want {
		e.t.Errorf("snapshot holds %d files, the drive %d", len(files), want)
	}
}

// TestDriveBackup follows one drive through a full backup, an unchanged
// incremental, a ransomware attack, deleted files and a refused delta
// token, checking the snapshot against the drive each time.
func TestDriveBackup(t *testing.T) {
	e := newEnv(t, tenantsim.Config{Users: 3, Seed: 5})
	res, full := e.run(nil, onedrive.Options{})
	t.Logf("full: %+v", res)
	if res.NewItems == 0 || res.Failed != 0 || res.Items != res.NewItems {
		t.Fatalf("full backup: %+v", res)
	}
	e.check(full, true)

	res, inc := e.run(&full, onedrive.Options{})
	t.Logf("unchanged: %+v", res)
	if res.NewItems != 0 || res.CarriedItems != res.Items || res.Items == 0 || res.Failed != 0 {
		t.Fatalf("unchanged incremental downloaded or lost files: %+v", res)
	}
	// The drive record and one delta page: an unchanged drive costs two
	// requests whatever its size.
	if res.Requests > 2 {
		t.Errorf("unchanged incremental made %d requests, want 2", res.Requests)
	}
	e.check(inc, true)

	before, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "ransomware", User: e.user.Name}); err != nil {
		t.Fatal(err)
	}
	res, hit := e.run(&inc, onedrive.Options{})
	t.Logf("after ransomware: %+v", res)
	if res.NewItems != res.Items || res.Failed != 0 {
		t.Fatalf("after ransomware every file is new content: %+v", res)
	}
	e.check(hit, true)
	// Every pre-attack content is still in the snapshot, as a version.
	stored := map[string]bool{}
	for _, it := range e.items(&hit) {
		if it.Meta["kind"] == "file-version" {
			b, _ := e.read(it)
			stored[it.Meta["item_id"]+"\x00"+string(b)] = true
		}
	}
	for _, di := range before.Items {
		if !di.Folder && !stored[di.ID+"\x00"+string(di.Versions[len(di.Versions)-1].Content)] {
			t.Errorf("pre-attack content of %s is not among the stored versions", di.Path)
		}
	}

	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "delete-files", User: e.user.Name, Count: 2}); err != nil {
		t.Fatal(err)
	}
	res, del := e.run(&hit, onedrive.Options{})
	if res.RemovedItems != 2 || res.NewItems != 0 {
		t.Fatalf("after deleting 2 files: %+v", res)
	}
	e.check(del, true)

	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "expire-delta-tokens"}); err != nil {
		t.Fatal(err)
	}
	res, resync := e.run(&del, onedrive.Options{})
	t.Logf("after a refused token: %+v", res)
	if len(res.Resynced) == 0 || res.NewItems != 0 || res.Failed != 0 {
		t.Fatalf("after a refused delta token: %+v", res)
	}
	e.check(resync, true)
	res, _ = e.run(&resync, onedrive.Options{})
	if len(res.Resynced) != 0 || res.NewItems != 0 {
		t.Fatalf("the run after a resync did not use the new token: %+v", res)
	}
}

// TestUserWithoutDrive guards the rule that a user without a OneDrive is
// reported as having nothing to protect, with nothing written.
func TestUserWithoutDrive(t *testing.T) {
	e := newEnv(t, tenantsim.Config{Users: 3, Seed: 5})
	w, err := e.v.NewWriter("onedrive-test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	ghost := workloads.Unit{ID: "00000000-0000-4000-8000-000000000000", Name: "ghost@example"}
	res, err := onedrive.BackupDrive(context.Background(), e.g, w, nil, ghost, onedrive.Options{})
	if !errors.Is(err, workloads.ErrUnitGone) || res.Written != 0 {
		t.Fatalf("BackupDrive of a user without a drive: %v, %+v", err, res)
	}
}
