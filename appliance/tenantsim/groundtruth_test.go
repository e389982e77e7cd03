package tenantsim_test

import (
	"bytes"
	"context"
	"reflect"
	"testing"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestSimRansomwareGroundTruth guards the ground truth a rollback is
// checked against: after ransomware, DumpDriveAt(Before) (in process and
// over /_sim/ with Remote) equals the dump taken before the attack byte
// for byte; every file's current content differs from it; and the
// version before the attack, read through the SDK, is exactly the
// pre-attack content. A drive that lost an item since cannot be rebuilt
// and says so.
func TestSimRansomwareGroundTruth(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	c := sdkClient(t, s, s.BackupApp())
	ctx := context.Background()
	u := firstMailbox(t, s)
	before, err := s.DumpDrive(u.UPN)
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Apply(tenantsim.Scenario{Name: "ransomware", User: u.UPN})
	if err != nil || res.Before == 0 {
		t.Fatalf("ransomware: %+v %v", res, err)
	}
	at, err := s.DumpDriveAt(u.UPN, res.Before)
	if err != nil || !reflect.DeepEqual(at, before) {
		t.Fatalf("DumpDriveAt(Before): %v; differs from the dump taken before the attack", err)
	}
	remote := &tenantsim.Remote{Root: s.AuthorityHost(), Client: httpClient(t, s)}
	if got, err := remote.DumpDriveAt(ctx, u.UPN, res.Before); err != nil || !reflect.DeepEqual(got, before) {
		t.Fatalf("Remote.DumpDriveAt: %v; differs from the dump taken before the attack", err)
	}
	after, _ := s.DumpDrive(u.UPN)
	pre, post := before.Files(), after.Files()
	if len(pre) == 0 || len(pre) != len(post) {
		t.Fatalf("%d files before, %d after", len(pre), len(post))
	}
	for p, b := range pre {
		if bytes.Equal(post[p], b) {
			t.Errorf("%s unchanged by ransomware", p)
		}
	}
	for i, it := range after.Items {
		if it.Folder {
			continue
		}
		prev := it.Versions[len(it.Versions)-2]
		got, err := c.Drives().ByDriveId(after.DriveID).Items().ByDriveItemId(it.ID).Versions().ByDriveItemVersionId(prev.ID).Content().Get(ctx, nil)
		if err != nil || !bytes.Equal(got, pre[it.Path]) || before.Items[i].Path != it.Path {
			t.Errorf("%s: version %s through the SDK (%v) is not the pre-attack content", it.Path, prev.ID, err)
		}
	}

	if _, err := s.Apply(tenantsim.Scenario{Name: "delete-files", User: u.UPN, Count: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DumpDriveAt(u.UPN, res.Before); err == nil {
		t.Error("DumpDriveAt after a deletion: no error, yet the deleted file is not kept")
	}
	// A file created and deleted after a point does not stand in the
	// way of dumping that point.
	mark, err := s.Apply(tenantsim.Scenario{Name: "mail-burst", User: u.UPN, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	then, _ := s.DumpDrive(u.UPN)
	hc, tok := httpClient(t, s), accessToken(t, s, s.RestoreApp())
	if st, _, b := call(t, hc, "POST", s.BaseURL()+"/drives/"+then.DriveID+"/root/children", tok, "application/json", `{"name":"Eintagsfliege","folder":{}}`); st != 201 && st != 200 {
		t.Fatalf("create folder: %d %s", st, b)
	}
	if st, _, b := call(t, hc, "PUT", s.BaseURL()+"/drives/"+then.DriveID+"/root:/Eintagsfliege/kurz.txt:/content", tok, "text/plain", "kurz"); st != 201 {
		t.Fatalf("upload: %d %s", st, b)
	}
	if del, err := s.Apply(tenantsim.Scenario{Name: "delete-files", User: u.UPN, Folder: "Eintagsfliege", Count: 1}); err != nil || del.ItemsDeleted != 1 {
		t.Fatalf("delete-files: %+v %v", del, err)
	}
	if got, err := s.DumpDriveAt(u.UPN, mark.Before); err != nil || !reflect.DeepEqual(got, then) {
		t.Errorf("DumpDriveAt before a short-lived file: %v; differs from the dump taken then", err)
	}
}

// TestTeamsGroundTruthRemote guards the ground truth of teams and groups
// over /_sim/: the remote answers equal the in-process dumps, and an
// unknown channel is an error.
func TestTeamsGroundTruthRemote(t *testing.T) {
	s := tenantsim.NewTest(t, testConfig())
	remote := &tenantsim.Remote{Root: s.AuthorityHost(), Client: httpClient(t, s)}
	ctx := context.Background()
	teams, err := remote.Teams(ctx)
	if err != nil || !reflect.DeepEqual(teams, s.Teams()) || len(teams) < 3 {
		t.Fatalf("Remote.Teams: %v, %d teams", err, len(teams))
	}
	for _, name := range teams[0].Channels {
		got, err := remote.DumpChannel(ctx, teams[0].Mail, name)
		want, _ := s.DumpChannel(teams[0].ID, name)
		if err != nil || !reflect.DeepEqual(got, want) || len(got.Messages) == 0 {
			t.Fatalf("Remote.DumpChannel %s: %v", name, err)
		}
	}
	if _, err := remote.DumpChannel(ctx, teams[0].Mail, "no such channel"); err == nil {
		t.Fatal("an unknown channel dumped without error")
	}
	got, err := remote.DumpGroupThreads(ctx, teams[0].ID)
	want, _ := s.DumpGroupThreads(teams[0].ID)
	if err != nil || !reflect.DeepEqual(got, want) || len(got) == 0 {
		t.Fatalf("Remote.DumpGroupThreads: %v", err)
	}
}
