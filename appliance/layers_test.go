// Package appliance_test checks the dependency directions of the whole
// project: cmd → (api client | packages); tui → api only (setup for the
// first-boot wizard, units for formatting); api → agent; agent → workloads
// → graph, catalog, storage; storage imports nothing of the appliance.
package appliance_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/strongroom/strongroom/"

// rules: packages under the prefix must not import packages under any of
// the forbidden prefixes.
var rules = []struct {
	pkg       string
	forbidden []string
}{
	{"storage/", []string{"appliance/", "tui/"}},
	{"appliance/graph", []string{"storage/", "appliance/agent", "appliance/workloads", "appliance/catalog", "appliance/api", "tui/"}},
	{"appliance/workloads/", []string{"appliance/agent", "appliance/api", "appliance/cmd", "tui/"}},
	{"appliance/catalog", []string{"appliance/agent", "appliance/api", "appliance/workloads", "tui/"}},
	{"appliance/export", []string{"storage/", "appliance/agent", "appliance/api", "tui/"}},
	// The PST writer knows nothing of the project: callers hand it
	// folders and items. Its test readers only read files.
	{"appliance/export/pst", []string{"appliance/agent", "appliance/api", "appliance/catalog", "appliance/workloads", "appliance/graph", "storage/", "tui/"}},
	{"appliance/agent", []string{"appliance/api", "appliance/cmd", "tui/"}},
	{"appliance/metrics", []string{"appliance/agent", "appliance/api", "appliance/workloads", "tui/"}},
	{"appliance/tenantsim", []string{"storage/", "appliance/agent", "appliance/workloads", "tui/"}},
	{"tui", []string{"storage/", "appliance/agent", "appliance/workloads", "appliance/graph", "appliance/catalog",
		"appliance/osupdate", "appliance/config", "appliance/daemon", "appliance/cmd"}},
	// What the command line's operations are built on: units and outcome
	// import nothing of the project; the vault's tooling does not reach
	// the agent; the agent's tooling goes through its API.
	{"appliance/units", []string{"appliance/", "storage/", "tui/"}},
	{"appliance/outcome", []string{"appliance/", "storage/", "tui/"}},
	{"appliance/vaultctl", []string{"appliance/agent", "appliance/api", "appliance/workloads", "appliance/graph", "appliance/catalog", "appliance/cmd", "tui/"}},
	{"appliance/agentctl", []string{"appliance/workloads", "appliance/graph", "appliance/cmd", "storage/warden", "tui/"}},
	{"appliance/simctl", []string{"storage/", "appliance/agent", "appliance/api", "appliance/workloads", "appliance/cmd", "tui/"}},
	{"appliance/daemon", []string{"appliance/workloads", "appliance/cmd", "tui/"}},
	{"appliance/bench", []string{"appliance/cmd", "tui/"}},
	{"appliance/demo", []string{"appliance/cmd", "tui/"}},
	{"appliance/sandbox", []string{"appliance/cmd", "tui/"}},
}

// only: packages under the prefix may import, of this project, only
// packages under these prefixes (and their own).
var only = []struct {
	pkg     string
	allowed []string
}{
	// The console is a client of the API; the wizard's setup backend is
	// the one exception (it runs before there is an agent), and units
	// formats numbers the same way as the CLI.
	{"tui", []string{"tui/", "appliance/api", "appliance/setup", "appliance/units"}},
	// The CLI's agent commands go through the API and print its types,
	// and show the progress of its jobs.
	{"appliance/agentctl", []string{"appliance/api", "appliance/outcome", "appliance/progress", "appliance/units"}},
	// Progress display formats with units and nothing else of the project.
	{"appliance/progress", []string{"appliance/units"}},
	// The API's wire types are its own: it adapts the agent, the vault's
	// remedies and the OS updater, and nothing else.
	{"appliance/api", []string{"appliance/agent", "appliance/catalog", "appliance/osupdate", "storage/vault"}},
}

// TestLayers fails on any import edge that goes against the layering.
func TestLayers(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "../storage/...", "../appliance/...", "../tui/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		for _, r := range rules {
			if !strings.HasPrefix(pkg+"/", strings.TrimSuffix(r.pkg, "/")+"/") {
				continue
			}
			checked++
			for _, imp := range fields[1:] {
				dep, ok := strings.CutPrefix(imp, module)
				if !ok {
					continue
				}
				for _, f := range r.forbidden {
					if strings.HasPrefix(dep+"/", strings.TrimSuffix(f, "/")+"/") {
						t.Errorf("%s imports %s: %s must not depend on %s", pkg, dep, r.pkg, f)
					}
				}
			}
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], module)
		if !ok {
			continue
		}
		for _, r := range only {
			if !strings.HasPrefix(pkg+"/", r.pkg+"/") {
				continue
			}
			checked++
			for _, imp := range fields[1:] {
				dep, ok := strings.CutPrefix(imp, module)
				if !ok || strings.HasPrefix(dep+"/", r.pkg+"/") {
					continue
				}
				if !slices.ContainsFunc(r.allowed, func(a string) bool { return strings.HasPrefix(dep+"/", strings.TrimSuffix(a, "/")+"/") }) {
					t.Errorf("%s imports %s: %s may import only %v", pkg, dep, r.pkg, r.allowed)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages matched a rule; the package list is wrong", checked)
	}
}
