package sharepoint_test

import (
	"bytes"
	"context"
	"path"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/sharepoint"
	"github.com/strongroom/strongroom/appliance/workloads/workloadtest"
	"github.com/strongroom/strongroom/storage/vault"
)

// TestSiteBackup backs up every site of a tenant twice and checks each
// library against the tenant byte for byte, that lists and pages are kept,
// and that the second run downloads nothing.
func TestSiteBackup(t *testing.T) {
	e := workloadtest.New(t, tenantsim.Config{Users: 3, Seed: 4})
	w := sharepoint.Workload{}
	sites, err := w.Discover(context.Background(), workloads.Tenant{Graph: e.Backup})
	if err != nil || len(sites) == 0 {
		t.Fatalf("discover: %v, %d sites", err, len(sites))
	}
	all := func(ctx context.Context, sink workloads.Sink, p workloads.Previous) (workloads.Result, error) {
		var sum workloads.Result
		for _, s := range sites {
			res, err := w.Backup(ctx, e.Backup, sink, p, s)
			if err != nil {
				return sum, err
			}
			if res.Failed != 0 {
				t.Errorf("site %s: %d failed: %v", s.Name, res.Failed, res.Errors)
			}
			sum.Add(res)
		}
		return sum, nil
	}
	full, first := e.Run(nil, all)
	t.Logf("full: %+v", full)
	if full.NewItems == 0 {
		t.Fatalf("no library file downloaded: %+v", full)
	}
	check(t, e, first)
	inc, second := e.Run(&first, all)
	if inc.NewItems != 0 || inc.CarriedItems != full.NewItems || full.NewItems != full.Items {
		t.Fatalf("unchanged sites: %+v after %+v", inc, full)
	}
	check(t, e, second)
}

// check compares every library in s with the tenant's drive and counts
// lists and pages.
func check(t *testing.T, e *workloadtest.Env, s vault.Snapshot) {
	t.Helper()
	byDrive := map[string]map[string]vault.Item{}
	lists, pages := 0, 0
	for _, it := range e.Items(&s) {
		switch it.Meta["kind"] {
		case "file":
			d := it.Meta["drive_id"]
			if byDrive[d] == nil {
				byDrive[d] = map[string]vault.Item{}
			}
			byDrive[d][strings.TrimPrefix(path.Join(it.Meta["folder"], it.Meta["name"]), "/")] = it
		case "list":
			lists++
		case "page":
			pages++
		}
	}
	if len(byDrive) == 0 || lists == 0 || pages == 0 {
		t.Fatalf("snapshot holds %d libraries, %d lists, %d pages", len(byDrive), lists, pages)
	}
	for id, files := range byDrive {
		d, err := e.Sim.DumpDrive(id)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, di := range d.Items {
			if di.Folder {
				continue
			}
			n++
			it, ok := files[di.Path]
			if !ok {
				t.Errorf("library %s: %s not in the snapshot", d.Name, di.Path)
				continue
			}
			if b, err := e.Read(it); err != nil || !bytes.Equal(b, di.Versions[len(di.Versions)-1].Content) {
				t.Errorf("library %s: %s differs (%v)", d.Name, di.Path, err)
			}
		}
		if n != len(files) {
			t.Errorf("library %s: %d files in the snapshot, %d in the tenant", d.Name, len(files), n)
		}
	}
}
