package agent

import (
	"context"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/graph"
	"github.com/strongroom/strongroom/appliance/workloads"
)

// namedWorkload is a workload that only has a name, for ordering tests.
type namedWorkload struct{ name string }

func (w namedWorkload) Name() string           { return w.name }
func (w namedWorkload) Noun() (string, string) { return w.name, w.name + "s" }
func (w namedWorkload) Discover(context.Context, workloads.Tenant) ([]workloads.Unit, error) {
	return nil, nil
}
func (w namedWorkload) Backup(context.Context, *graph.Client, workloads.Sink, workloads.Previous, workloads.Unit) (workloads.Result, error) {
	return workloads.Result{}, nil
}

// TestInterleave guards the order units are handed to the workers: one of
// each workload in turn, each workload's own order kept, none lost, so
// that Teams (registered last) does not wait for every drive.
func TestInterleave(t *testing.T) {
	mail, files, teams := namedWorkload{"exchange"}, namedWorkload{"onedrive"}, namedWorkload{"teams"}
	var in []plannedUnit
	for _, s := range []struct {
		w     namedWorkload
		names string
	}{{mail, "m1 m2 m3 m4"}, {files, "f1 f2"}, {teams, "t1"}} {
		for _, n := range strings.Fields(s.names) {
			in = append(in, plannedUnit{s.w, workloads.Unit{Name: n}})
		}
	}
	var got []string
	for _, pu := range interleave(in) {
		got = append(got, pu.u.Name)
	}
	if want := "m1 f1 t1 m2 f2 m3 m4"; strings.Join(got, " ") != want {
		t.Errorf("order %q, want %q", strings.Join(got, " "), want)
	}
	if len(interleave(nil)) != 0 {
		t.Error("no units gave some")
	}
}
