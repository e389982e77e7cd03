package onedrive_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
)

// patch renames or moves a drive item as a user would, through Graph.
func (e *env) patch(id string, body map[string]any) {
	e.t.Helper()
	d, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	c := &graph.Caller{G: e.Restore}
	if _, err := c.WriteJSON(context.Background(), abstractions.PATCH, "/drives/"+url.PathEscape(d.DriveID)+"/items/"+url.PathEscape(id), body); err != nil {
		e.t.Fatalf("PATCH %s: %v", id, err)
	}
}

// TestMovesAndRenames guards the promise that renaming a file and moving
// a folder (with everything beneath it) costs no download: the content is
// carried under its new place.
func TestMovesAndRenames(t *testing.T) {
	e := newEnv(t, tenantsim.Config{Users: 2, Seed: 21})
	_, full := e.run(nil, onedrive.Options{NoVersions: true})
	d, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	var file, folder, target string
	beneath := 0
	for _, it := range d.Items {
		switch {
		case it.Folder && folder == "" && strings.Count(it.Path, "/") == 0:
			folder = it.ID
		case it.Folder && target == "" && folder != "" && it.ID != folder && !strings.HasPrefix(it.Path, pathOf(d, folder)+"/"):
			target = it.ID
		case !it.Folder && file == "" && !strings.Contains(it.Path, "/"):
			file = it.ID
		}
	}
	for _, it := range d.Items {
		if !it.Folder && folder != "" && strings.HasPrefix(it.Path, pathOf(d, folder)+"/") {
			beneath++
		}
	}
	if file == "" || folder == "" || target == "" || beneath == 0 {
		t.Fatalf("the generated drive lacks a top-level file, two unrelated folders or files beneath the first: %q %q %q %d", file, folder, target, beneath)
	}
	e.patch(file, map[string]any{"name": "renamed by the user.txt"})
	e.patch(folder, map[string]any{"parentReference": map[string]any{"id": target}})
	res, moved := e.run(&full, onedrive.Options{NoVersions: true})
	t.Logf("after a rename and a folder move: %+v", res)
	if res.NewItems != 0 || res.Bytes != 0 || res.MovedItems != 1+beneath || res.Failed != 0 {
		t.Fatalf("a rename and a move of a folder with %d files beneath: %+v", beneath, res)
	}
	e.check(moved, false)
}

func pathOf(d tenantsim.DriveDump, id string) string {
	for _, it := range d.Items {
		if it.ID == id {
			return it.Path
		}
	}
	return ""
}

// TestContentChecked guards the rule that a download whose bytes do not
// match the quickXorHash Graph reports is never stored as the file: a
// corrupted download is retried, and a file that is corrupted every time
// is reported as failed, keeps no content, and is fetched again next run.
// It also checks that the bearer token never reached the download host.
func TestContentChecked(t *testing.T) {
	e := newEnv(t, tenantsim.Config{Users: 2, Seed: 3})
	d, err := e.sim.DumpDrive(e.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range d.Items {
		if !it.Folder {
			ids = append(ids, it.ID)
		}
	}
	once, always := ids[0], ids[1]
	if err := e.sim.SetFaults(tenantsim.Faults{CorruptContent: map[string]int{once: 1, always: -1}}); err != nil {
		t.Fatal(err)
	}
	res, first := e.run(nil, onedrive.Options{NoVersions: true})
	t.Logf("with corrupted downloads: %+v", res)
	if res.Failed != 1 || res.Items != len(ids)-1 || !strings.Contains(strings.Join(res.Errors, " "), "quickXorHash") {
		t.Fatalf("one file always corrupted, one once: %+v", res)
	}
	for _, it := range e.items(&first) {
		if it.Meta["kind"] == "file" && it.Meta["item_id"] == always {
			t.Fatalf("the always-corrupted file was stored")
		}
		if it.Meta["kind"] == "state" {
			t.Fatalf("the delta state advanced although a file failed")
		}
	}
	if err := e.sim.SetFaults(tenantsim.Faults{}); err != nil {
		t.Fatal(err)
	}
	res, second := e.run(&first, onedrive.Options{NoVersions: true})
	if res.Failed != 0 || res.NewItems != 1 {
		t.Fatalf("the next run must fetch the failed file alone: %+v", res)
	}
	e.check(second, false)
	if n := e.sim.Counters().Total("files.download", 401); n != 0 {
		t.Fatalf("the download host refused %d requests carrying a token", n)
	}
}
