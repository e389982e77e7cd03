// Package demo runs the product's main job end to end with real parts and
// nothing to set up: a simulated tenant, a vault on temporary disks, a full
// backup, a user deleting a folder and a Teams channel being deleted, an
// incremental backup, a restore of the folder from the earlier restore
// point with a byte-for-byte check, the channel restored through Graph's
// import path and compared with the tenant's record, a ransomware attack
// rolled back; then the vault copied to a real S3 server with Object Lock,
// every local disk lost, the vault rebuilt from the bucket and the folder
// restored again. 'make demo' and 'strongroom demo' run it.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/sandbox"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/units"
)

// Options are the demo's settings.
type Options struct {
	Users int // users in the simulated tenant
	// Keep keeps the temporary directory (vault, configuration) for
	// inspection.
	Keep bool
	// Log receives the agent's log.
	Log *slog.Logger
}

// folder is the folder the demo's user deletes; the restore puts it back
// where it was.
const folder = "Inbox/" + tenantsim.SignedContractsFolder

// demo is one run: where it reports, and what the steps found.
type demo struct {
	out       io.Writer
	began     time.Time
	sim       *tenantsim.Sim
	a         *agent.Agent
	victim    tenantsim.UserInfo
	originals [][]byte // the deleted folder's messages (MIME)
	full, inc *agent.BackupReport
	teams     *teamsStage
	sb        *sandbox.Sandbox
	log       *slog.Logger
}

// step reports one step on a line, with the time since the start.
func (d *demo) step(format string, args ...any) {
	fmt.Fprintf(d.out, "[%5.1fs] %s\n", time.Since(d.began).Seconds(), fmt.Sprintf(format, args...))
}

// Run runs the demo and reports each step on out. It fails when a
// restored message differs from the one deleted or the restore test fails.
func Run(ctx context.Context, out io.Writer, o Options) error {
	d := &demo{out: out, began: time.Now(), log: o.Log}
	dir, err := os.MkdirTemp("", "strongroom-demo-")
	if err != nil {
		return err
	}
	if o.Keep {
		defer fmt.Fprintf(out, "kept %s (configuration: %s)\n", dir, filepath.Join(dir, sandbox.ConfigFile))
	} else {
		defer os.RemoveAll(dir)
	}
	if d.sim, err = tenantsim.New(tenantsim.Config{Users: o.Users, Seed: 7}); err != nil {
		return err
	}
	if err := d.sim.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer d.sim.Close()
	d.step("simulated tenant %s serving Microsoft Graph at %s (%d users)", d.sim.TenantID(), d.sim.BaseURL(), o.Users)
	sb, err := sandbox.New(dir, d.sim, 8, o.Log)
	if err != nil {
		return err
	}
	defer sb.Close()
	d.a, d.sb = sb.Agent, sb
	d.step("vault %s created on %d temporary disks, layout %s (any 2 disks may fail)", sb.Vault.VaultID[:8], sandbox.Disks, sb.Vault.Layout)
	for _, s := range []func(context.Context) error{d.fullBackup, d.changeTenant, d.deleteChannel, d.backUpAgain, d.restore, d.restoreChannel, d.ransomware, d.check, d.offsiteStage} {
		if err := s(ctx); err != nil {
			return err
		}
	}
	fmt.Fprintf(d.out, "demo passed in %.1fs\n", time.Since(d.began).Seconds())
	return nil
}

// backUp makes a backup through the agent and reports it with say.
func (d *demo) backUp(ctx context.Context, say func(r *agent.BackupReport)) (*agent.BackupReport, error) {
	r, err := d.a.Backup(ctx, agent.BackupRequest{})
	if err == nil {
		say(r)
	}
	return r, err
}

// fullBackup makes the first, full backup.
func (d *demo) fullBackup(ctx context.Context) (err error) {
	d.full, err = d.backUp(ctx, func(r *agent.BackupReport) {
		d.step("full backup: %d units, %d items, %s downloaded, %s stored, %d Graph requests, %.1fs -> snapshot %s",
			r.Protected, r.Items, units.Bytes(r.Bytes), units.Bytes(r.StoredBytes), r.Requests, r.Seconds, r.Snapshot)
	})
	return err
}

// changeTenant has the first licensed user delete the folder and a burst
// of mail arrive everywhere, keeping the deleted messages to compare.
func (d *demo) changeTenant(context.Context) error {
	for _, u := range d.sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted {
			d.victim = u
			break
		}
	}
	var err error
	if d.originals, err = d.mailIn(folder); err != nil {
		return err
	}
	if _, err := d.sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: d.victim.ID, Folder: folder}); err != nil {
		return err
	}
	burst, err := d.sim.Apply(tenantsim.Scenario{Name: "mail-burst", Count: 5})
	if err != nil {
		return err
	}
	d.step("tenant changed: %s deleted the folder %q (%d messages); %d new mails arrived across the tenant",
		d.victim.UPN, tenantsim.SignedContractsFolder, len(d.originals), burst.ItemsCreated)
	return nil
}

// mailIn returns the MIME of the victim's messages below the folder path
// prefix, sorted.
func (d *demo) mailIn(prefix string) ([][]byte, error) {
	dump, err := d.sim.DumpMailbox(d.victim.ID)
	if err != nil {
		return nil, err
	}
	var mime [][]byte
	for _, m := range dump.Messages {
		if strings.HasPrefix(m.FolderPath, prefix) {
			mime = append(mime, m.MIME)
		}
	}
	sort.Slice(mime, func(i, j int) bool { return bytes.Compare(mime[i], mime[j]) < 0 })
	return mime, nil
}

// backUpAgain makes the incremental backup and looks the folder up in the
// catalog of both restore points.
func (d *demo) backUpAgain(ctx context.Context) (err error) {
	d.inc, err = d.backUp(ctx, func(r *agent.BackupReport) {
		d.step("incremental backup: %d new items, %d unchanged carried over without download, %d Graph requests, %.1fs -> snapshot %s",
			r.NewItems, r.Carried, r.Requests, r.Seconds, r.Snapshot)
	})
	if err != nil {
		return err
	}
	_, found, err := d.a.Find(ctx, d.full.Snapshot, catalog.Query{User: d.victim.UPN, Folder: folder, Kind: catalog.KindMessage}, 0)
	if err != nil {
		return err
	}
	_, gone, _ := d.a.Find(ctx, d.inc.Snapshot, catalog.Query{User: d.victim.UPN, Folder: folder}, 0)
	d.step("catalog: the folder holds %d messages in the first restore point, %d in the latest", len(found), len(gone))
	return nil
}

// restore writes the folder back from the first restore point and checks
// every restored message against the deleted one.
func (d *demo) restore(ctx context.Context) error {
	rep, err := d.a.Restore(ctx, agent.RestoreRequest{
		Selection: agent.Selection{Snapshot: d.full.Snapshot, User: d.victim.UPN, Folder: folder},
	})
	if err != nil {
		return err
	}
	d.step("restore: %d messages written back to %q of %s, where they were, in %.1fs (%d failed)", rep.Restored, folder, rep.TargetUser, rep.Seconds, rep.Failed)
	restored, err := d.mailIn(folder)
	if err != nil {
		return err
	}
	identical := len(d.originals) == len(restored) && len(d.originals) > 0
	var total int
	for i := 0; identical && i < len(d.originals); i++ {
		identical = bytes.Equal(d.originals[i], restored[i])
		total += len(restored[i])
	}
	if !identical {
		return fmt.Errorf("demo failed: %d messages restored, %d deleted, and they are not byte-identical", len(restored), len(d.originals))
	}
	d.step("verified: all %d restored messages are byte-for-byte identical to the deleted originals (%s of MIME)", len(restored), units.Bytes(total))
	return nil
}

// ransomware encrypts the victim's OneDrive, as a synced attacker would,
// lets a scheduled backup take the damage in, and puts the drive back with
// one rollback to the time before the attack; the drive must then equal
// the tenant's own record of it from before, byte for byte.
func (d *demo) ransomware(ctx context.Context) error {
	time.Sleep(10 * time.Millisecond) // the attack comes after the last clean restore point
	attack := time.Now()
	hit, err := d.sim.Apply(tenantsim.Scenario{Name: "ransomware", User: d.victim.UPN})
	if err != nil {
		return err
	}
	d.step("ransomware: %d files of %s's OneDrive encrypted in place", hit.ItemsModified, d.victim.UPN)
	if _, err := d.backUp(ctx, func(r *agent.BackupReport) {
		d.step("a backup after the attack stores the encrypted versions: %d new items -> snapshot %s", r.NewItems, r.Snapshot)
	}); err != nil {
		return err
	}
	rep, err := d.a.Rollback(ctx, agent.RollbackRequest{User: d.victim.UPN, Before: attack})
	if err != nil {
		return err
	}
	d.step("strongroom rollback --user %s --before %s: %d files put back (%s) from restore point %s, %d quarantined, %d failed, %.1fs",
		d.victim.UPN, attack.UTC().Format(time.RFC3339), len(rep.Restored), units.Bytes(rep.Bytes), rep.Snapshot, len(rep.Quarantined), rep.Failed, rep.Seconds)
	before, err := d.sim.DumpDriveAt(d.victim.ID, hit.Before)
	if err != nil {
		return err
	}
	now, err := d.sim.DumpDrive(d.victim.ID)
	if err != nil {
		return err
	}
	want, got := before.Files(), now.Files()
	var total int64
	for p, b := range want {
		if !bytes.Equal(got[p], b) {
			return fmt.Errorf("after the rollback %s differs from before the attack", p)
		}
		total += int64(len(b))
	}
	if len(got) != len(want) {
		return fmt.Errorf("after the rollback the drive holds %d files, before the attack %d", len(got), len(want))
	}
	d.step("verified: all %d files of the drive are byte-for-byte what they were before the attack (%s)", len(want), units.Bytes(total))
	return nil
}

// check runs a restore test and reports the vault and the tenant's
// figures.
func (d *demo) check(ctx context.Context) error {
	test, err := d.a.RestoreTest(ctx, 25)
	if err != nil {
		return err
	}
	st, err := d.a.Status(ctx)
	if err != nil {
		return err
	}
	d.step("restore test: %d random items restored to scratch space and verified (ok=%v)", test.Items, test.OK)
	v := st.Vault
	d.step("vault: %d snapshots, %s logical, %s unique, dedup %.2fx, %s on disk incl. parity, retention locked until %s",
		v.Snapshots, units.Bytes(v.LogicalBytes), units.Bytes(v.UniqueBytes), v.DedupRatio,
		units.Bytes(v.UsedBytes), v.LockedUntil.Format("2006-01-02"))
	c := d.sim.Counters()
	d.step("tenant served %d requests (%s), %d throttled", c.Total("", 0), units.Bytes(c.BytesServed), c.Throttled)
	if !test.OK {
		return fmt.Errorf("restore test failed")
	}
	return nil
}
