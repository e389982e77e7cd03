package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/storage/safefs"
)

// TestExportRefusesSymlinksInDestination: for every format, a symbolic
// link already in the destination where the export would write (a
// directory link to a directory outside, or a dangling file link, which
// os.Create would follow and create) stops the export with an error naming
// the link, and nothing is written outside the destination.
func TestExportRefusesSymlinksInDestination(t *testing.T) {
	sim, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		t.Fatal(err)
	}
	victim := firstMailboxUser(sim)
	kinds := map[string]string{"eml": "mail", "mbox": "mail", "maildir": "mail", "vcf": "contacts", "ics": "calendar"}
	for _, format := range []string{"eml", "mbox", "maildir", "vcf", "ics"} {
		t.Run(format, func(t *testing.T) {
			req := agent.ExportRequest{Selection: agent.Selection{Snapshot: full.Snapshot, User: victim.UPN, Kind: kinds[format]}, Format: format}

			// A clean export shows which names the export writes at the
			// top of its destination.
			req.Dest = filepath.Join(dir, "clean-"+format)
			rep, err := a.Export(ctx, req)
			if err != nil && strings.Contains(err.Error(), "holds nothing matching") {
				t.Skipf("the simulated mailbox has no %s", kinds[format])
			}
			if err != nil || rep.Items == 0 {
				t.Fatalf("clean export: %v, %+v", err, rep)
			}
			top, err := os.ReadDir(req.Dest)
			if err != nil || len(top) == 0 {
				t.Fatalf("clean export wrote nothing: %v", err)
			}

			// The same names as links out of the destination.
			req.Dest = filepath.Join(dir, "trap-"+format)
			outside := filepath.Join(dir, "outside-"+format)
			for _, d := range []string{req.Dest, outside} {
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			var links []string
			for _, e := range top {
				target := outside
				if !e.IsDir() {
					target = filepath.Join(outside, e.Name()) // dangling: os.Create would make it
				}
				link := filepath.Join(req.Dest, e.Name())
				if err := os.Symlink(target, link); err != nil {
					t.Fatal(err)
				}
				links = append(links, link)
			}
			_, err = a.Export(ctx, req)
			if !errors.Is(err, safefs.ErrSymlink) {
				t.Fatalf("export into a destination of links: error %v, want a refusal to follow a symbolic link", err)
			}
			named := false
			for _, l := range links {
				named = named || strings.Contains(err.Error(), "refusing to follow symbolic link "+l)
			}
			if !named {
				t.Errorf("error %q names none of the links %v", err, links)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Fatalf("export wrote %d entries outside the destination", len(ents))
			}
		})
	}
}

// TestEmptySnapshotIsRefused: a restore or export that names no snapshot
// is refused instead of quietly using the latest one.
func TestEmptySnapshotIsRefused(t *testing.T) {
	sim, a, dir := newAgent(t, 2, tenantsim.Config{})
	ctx := context.Background()
	if _, err := a.Backup(ctx, agent.BackupRequest{}); err != nil {
		t.Fatal(err)
	}
	victim := firstMailboxUser(sim)
	for _, ref := range []string{"", "  "} {
		sel := agent.Selection{Snapshot: ref, User: victim.UPN, Kind: "mail"}
		dest := filepath.Join(dir, "export")
		_, err := a.Export(ctx, agent.ExportRequest{Selection: sel, Format: "eml", Dest: dest})
		if !errors.Is(err, agent.ErrNoSnapshot) || !strings.Contains(err.Error(), "no snapshot given") {
			t.Errorf("export of snapshot %q: %v, want ErrNoSnapshot", ref, err)
		}
		if _, err := os.Stat(dest); !os.IsNotExist(err) {
			t.Errorf("refused export created its destination (%v)", err)
		}
		if _, err := a.Restore(ctx, agent.RestoreRequest{Selection: sel}); !errors.Is(err, agent.ErrNoSnapshot) {
			t.Errorf("restore of snapshot %q: %v, want ErrNoSnapshot", ref, err)
		}
	}
	// "latest" still means the latest.
	if rep, err := a.Export(ctx, agent.ExportRequest{Selection: agent.Selection{Snapshot: "latest", User: victim.UPN, Kind: "mail"},
		Format: "eml", Dest: filepath.Join(dir, "latest")}); err != nil || rep.Items == 0 {
		t.Errorf("export of latest: %v, %+v", err, rep)
	}
}
