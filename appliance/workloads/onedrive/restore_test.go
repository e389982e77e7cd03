package onedrive_test

import (
	"bytes"
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/vault"
)

func (e *env) restoreClient() *graph.Client { return e.Restore }

func files(items []vault.Item) []vault.Item {
	var out []vault.Item
	for _, it := range items {
		if it.Meta["kind"] == "file" {
			out = append(out, it)
		}
	}
	return out
}

// current maps path → current content of the user's drive.
func (e *env) current() map[string][]byte {
	e.t.Helper()
	d, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, di := range d.Items {
		if !di.Folder {
			out[di.Path] = di.Versions[len(di.Versions)-1].Content
		}
	}
	return out
}

// TestRestoreFiles restores a drive hit by ransomware from the snapshot
// before it, with each collision policy, into the original places and
// into another folder, and compares the drive with what it held before.
func TestRestoreFiles(t *testing.T) {
	e := newEnv(t, tenantsim.Config{Users: 2, Seed: 9})
	_, full := e.run(nil, onedrive.Options{NoVersions: true})
	clean := e.current()
	if _, err := e.sim.Apply(tenantsim.Scenario{Name: "ransomware", User: e.user.Name}); err != nil {
		t.Fatal(err)
	}
	g := e.restoreClient()
	items := files(e.items(&full))
	restore := func(collision, folder string) workloads.RestoreResult {
		t.Helper()
		res, err := onedrive.RestoreFiles(context.Background(), g, e.v, items, workloads.RestoreOptions{TargetUserID: e.user.Name, Collision: collision, TargetFolder: folder})
		if err != nil || res.Failed != 0 {
			t.Fatalf("restore %s into %q: %v %+v", collision, folder, err, res)
		}
		return res
	}

	if res := restore("skip", ""); res.Skipped != len(items) || res.Restored != 0 {
		t.Fatalf("skip over existing files: %+v", res)
	}
	if res := restore("replace", ""); res.Replaced != len(items) || res.Restored != len(items) {
		t.Fatalf("replace: %+v", res)
	}
	now := e.current()
	for p, want := range clean {
		if !bytes.Equal(now[p], want) {
			t.Errorf("%s after restore with replace: %d bytes, want the %d clean ones", p, len(now[p]), len(want))
		}
	}
	if len(now) != len(clean) {
		t.Errorf("drive holds %d files after replace, %d before the attack", len(now), len(clean))
	}

	restore("copy", "Restored")
	restore("copy", "")
	now = e.current()
	for p, want := range clean {
		if !bytes.Equal(now["Restored/"+p], want) {
			t.Errorf("Restored/%s differs from the clean file", p)
		}
		dir, name := filepath.Split(p)
		ext := filepath.Ext(name)
		copyPath := dir + strings.TrimSuffix(name, ext) + " (restored)" + ext
		if !bytes.Equal(now[copyPath], want) {
			t.Errorf("%s (a copy beside the original) differs from the clean file", copyPath)
		}
	}
}

// TestRestoreLargeFile sends a file larger than one simple upload back
// through an upload session in several chunks, and compares it.
func TestRestoreLargeFile(t *testing.T) {
	e := newEnv(t, tenantsim.Config{Users: 2, Seed: 13})
	big := make([]byte, 25<<20+12345)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	d, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := &graph.Caller{G: e.Restore}
	if _, err := c.Write(context.Background(), abstractions.PUT, "/drives/"+url.PathEscape(d.DriveID)+"/root:/archive.bin:/content", "application/octet-stream", big); err != nil {
		t.Fatal(err)
	}
	_, full := e.run(nil, onedrive.Options{NoVersions: true})
	var sel []vault.Item
	for _, it := range files(e.items(&full)) {
		if it.Meta["name"] == "archive.bin" {
			sel = append(sel, it)
		}
	}
	if len(sel) != 1 || sel[0].Size != int64(len(big)) {
		t.Fatalf("the big file is not in the backup whole: %v", sel)
	}
	res, err := onedrive.RestoreFiles(context.Background(), e.Restore, e.v, sel, workloads.RestoreOptions{TargetUserID: e.user.ID, TargetFolder: "Back", Collision: "skip"})
	if err != nil || res.Restored != 1 {
		t.Fatalf("restore: %v %+v", err, res)
	}
	if got := e.current()["Back/archive.bin"]; !bytes.Equal(got, big) {
		t.Fatalf("restored big file: %d bytes, want %d identical", len(got), len(big))
	}
	if n := e.sim.Counters().Total("upload", 200) + e.sim.Counters().Total("upload", 201) + e.sim.Counters().Total("upload", 202); n != 3 {
		t.Fatalf("%d chunks accepted by the upload session: the 25 MiB file must go in 3 chunks of 10 MiB at most", n)
	}
}
