package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestCLIRestoreLargeMessages guards issue 13 item 10 as an operator
// meets it: a folder holding a 35 MB message with a 30 MiB attachment and
// one with a 140 MB attachment (Graph takes 4 MB per request) is backed
// up, deleted, and restored with the plain restore command, which says
// it restored both and nothing failed; each message is back with its
// headers, bodies and every attachment byte for byte.
func TestCLIRestoreLargeMessages(t *testing.T) {
	c := newCLITenant(t, tenantsim.Config{Users: 2, Seed: 19})
	var user tenantsim.UserInfo
	for _, u := range c.sim.Users() {
		if u.Licensed && !u.Deleted {
			user = u
			break
		}
	}
	const folder = "Large"
	if _, err := c.sim.Apply(tenantsim.Scenario{Name: "large-mail", User: user.UPN, Folder: folder}); err != nil {
		t.Fatal(err)
	}
	want := c.largeFolder(user.ID, folder)
	_, s1, _ := c.backup(0)
	if _, err := c.sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: user.UPN, Folder: folder}); err != nil {
		t.Fatal(err)
	}
	r := c.run("restore", s1, "--user", user.UPN, "--folder", folder)
	if r.code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	n := len(tenantsim.LargeMail)
	wantIn(t, "restore", r.stdout, fmt.Sprintf("restored %d of %d items from %s to their original places in %s in ", n, n, s1, user.UPN),
		"(0 skipped, 0 replaced, 0 failed)")
	got := c.largeFolder(user.ID, folder)
	for subject, w := range want {
		if g, ok := got[subject]; !ok {
			t.Errorf("%q is not back in %s", subject, folder)
		} else if err := tenantsim.CompareMIME(w, g); err != nil {
			t.Errorf("%q restored: %v", subject, err)
		}
	}
}

// largeFolder returns the MIME of the messages in a folder of a mailbox
// by subject.
func (c *cliTenant) largeFolder(user, folder string) map[string][]byte {
	c.t.Helper()
	d, err := c.sim.DumpMailbox(user)
	if err != nil {
		c.t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, m := range d.Messages {
		if strings.EqualFold(m.FolderPath, folder) {
			out[m.Subject] = m.MIME
		}
	}
	return out
}
