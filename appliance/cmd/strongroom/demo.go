package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strongroom/strongroom/appliance/agent"
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/tenantsim"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

func init() { register(newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var users int
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "End-to-end demonstration: simulated tenant, vault on temporary disks, backup, deletion, restore",
		Long: `Runs the product's main job end to end with real parts and nothing to set up:
a simulated Microsoft 365 tenant served over HTTPS, a vault on four temporary
disk directories, a full backup through Microsoft Graph, then the tenant
changes (a user deletes the folder "Signed Contracts", everyone receives new
mail), an incremental backup, a restore of the deleted folder from the earlier
restore point, and a byte-for-byte check of every restored message against
the original. Prints a short report; exits 1 if any check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), users, keep)
		},
	}
	cmd.Flags().IntVar(&users, "users", 6, "users in the simulated tenant")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory (vault, configuration) for inspection")
	return cmd
}

func runDemo(ctx context.Context, out io.Writer, users int, keep bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	began := time.Now()
	step := func(format string, args ...any) {
		fmt.Fprintf(out, "[%5.1fs] %s\n", time.Since(began).Seconds(), fmt.Sprintf(format, args...))
	}
	dir, err := os.MkdirTemp("", "strongroom-demo-")
	if err != nil {
		return err
	}
	if keep {
		defer fmt.Fprintf(out, "kept %s (configuration: %s)\n", dir, filepath.Join(dir, "strongroom.yaml"))
	} else {
		defer os.RemoveAll(dir)
	}

	sim, err := tenantsim.New(tenantsim.Config{Users: users, Seed: 7})
	if err != nil {
		return err
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer sim.Close()
	step("simulated tenant %s serving Microsoft Graph at %s (%d users)", sim.TenantID(), sim.BaseURL(), users)

	var disks []string
	for i := 1; i <= 4; i++ {
		d := filepath.Join(dir, fmt.Sprintf("disk%d", i))
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
		disks = append(disks, d)
	}
	res, err := vault.Init(disks)
	if err != nil {
		return err
	}
	step("vault %s created on 4 temporary disks, layout %s (any 2 disks may fail)", res.VaultID[:8], res.Layout)
	keyFile := filepath.Join(dir, "recovery.key")
	caFile := filepath.Join(dir, "tenant-ca.pem")
	if err := os.WriteFile(keyFile, []byte(res.RecoveryKey.String()+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(caFile, sim.CAPEM(), 0o644); err != nil {
		return err
	}
	cfgPath := filepath.Join(dir, "strongroom.yaml")
	if err := tenantsim.WriteAgentConfig(cfgPath, sim.AgentConfig(caFile)); err != nil {
		return err
	}
	extra := fmt.Sprintf("vault:\n  disks: [%s]\n  key_file: %s\nworkers: 8\napi_socket: %s\n",
		strings.Join(disks, ", "), keyFile, filepath.Join(dir, "agent.sock"))
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	f.WriteString(extra)
	f.Close()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	a, err := agent.New(agent.Options{Config: cfg, Log: quietLog()})
	if err != nil {
		return err
	}
	defer a.Close()

	full, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		return err
	}
	step("full backup: %d mailboxes, %d items, %s downloaded, %s stored, %d Graph requests, %.1fs -> snapshot %s",
		full.Mailboxes, full.Items, units.Bytes(full.Bytes), units.Bytes(full.StoredBytes), full.Requests, full.Seconds, full.Snapshot)

	var victim tenantsim.UserInfo
	for _, u := range sim.Users() {
		if u.Licensed && u.Enabled && !u.Deleted {
			victim = u
			break
		}
	}
	before, err := sim.DumpMailbox(victim.ID)
	if err != nil {
		return err
	}
	var originals [][]byte
	for _, m := range before.Messages {
		if strings.HasPrefix(m.FolderPath, "Inbox/"+tenantsim.SignedContractsFolder) {
			originals = append(originals, m.MIME)
		}
	}
	if _, err := sim.Apply(tenantsim.Scenario{Name: "delete-folder", User: victim.ID, Folder: "Inbox/" + tenantsim.SignedContractsFolder}); err != nil {
		return err
	}
	burst, err := sim.Apply(tenantsim.Scenario{Name: "mail-burst", Count: 5})
	if err != nil {
		return err
	}
	step("tenant changed: %s deleted the folder %q (%d messages); %d new mails arrived across the tenant",
		victim.UPN, tenantsim.SignedContractsFolder, len(originals), burst.ItemsCreated)

	inc, err := a.Backup(ctx, agent.BackupRequest{})
	if err != nil {
		return err
	}
	step("incremental backup: %d new items, %d unchanged carried over without download, %d Graph requests, %.1fs -> snapshot %s",
		inc.NewItems, inc.Carried, inc.Requests, inc.Seconds, inc.Snapshot)

	_, found, err := a.Find(ctx, full.Snapshot, catalog.Query{User: victim.UPN, Folder: "Inbox/" + tenantsim.SignedContractsFolder, Kind: catalog.KindMessage}, 0)
	if err != nil {
		return err
	}
	_, gone, _ := a.Find(ctx, inc.Snapshot, catalog.Query{User: victim.UPN, Folder: "Inbox/" + tenantsim.SignedContractsFolder}, 0)
	step("catalog: the folder holds %d messages in the first restore point, %d in the latest", len(found), len(gone))

	rep, err := a.Restore(ctx, agent.RestoreRequest{
		Selection:    agent.Selection{Snapshot: full.Snapshot, User: victim.UPN, Folder: "Inbox/" + tenantsim.SignedContractsFolder},
		TargetFolder: "Recovered " + tenantsim.SignedContractsFolder,
	})
	if err != nil {
		return err
	}
	step("restore: %d messages written back into %q of %s in %.1fs (%d failed)", rep.Restored, rep.TargetFolder, victim.UPN, rep.Seconds, rep.Failed)

	after, err := sim.DumpMailbox(victim.ID)
	if err != nil {
		return err
	}
	var restored [][]byte
	for _, m := range after.Messages {
		if strings.HasPrefix(m.FolderPath, "Recovered "+tenantsim.SignedContractsFolder) {
			restored = append(restored, m.MIME)
		}
	}
	sortMIME(originals)
	sortMIME(restored)
	identical := len(originals) == len(restored) && len(originals) > 0
	for i := 0; identical && i < len(originals); i++ {
		identical = bytes.Equal(originals[i], restored[i])
	}
	if !identical {
		return fmt.Errorf("demo failed: %d messages restored, %d deleted, and they are not byte-identical", len(restored), len(originals))
	}
	var total int
	for _, m := range originals {
		total += len(m)
	}
	step("verified: all %d restored messages are byte-for-byte identical to the deleted originals (%s of MIME)", len(restored), units.Bytes(total))

	test, err := a.RestoreTest(ctx, 25)
	if err != nil {
		return err
	}
	st, err := a.Status(ctx)
	if err != nil {
		return err
	}
	step("restore test: %d random items restored to scratch space and verified (ok=%v)", test.Items, test.OK)
	step("vault: %d snapshots, %s logical, %s unique, dedup %.2fx, %s on disk incl. parity, retention locked until %s",
		st.Vault.Snapshots, units.Bytes(st.Vault.LogicalBytes), units.Bytes(st.Vault.UniqueBytes), st.Vault.DedupRatio,
		units.Bytes(st.Vault.UsedBytes), st.Vault.LockedUntil.Format("2006-01-02"))
	c := sim.Counters()
	step("tenant served %d requests (%s), %d throttled", c.Total("", 0), units.Bytes(c.BytesServed), c.Throttled)
	fmt.Fprintf(out, "demo passed in %.1fs\n", time.Since(began).Seconds())
	if !test.OK {
		return fmt.Errorf("restore test failed")
	}
	return nil
}

func sortMIME(b [][]byte) {
	sort.Slice(b, func(i, j int) bool { return bytes.Compare(b[i], b[j]) < 0 })
}
