package offsitectl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/sealed"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/appliance/vaultctl"
	"github.com/strongroom/strongroom/storage/clock"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/vault"
)

// Section returns the configuration's offsite section, or a usage error
// saying how to add one.
func Section(c *config.Config) (*config.Offsite, error) {
	if c.Offsite == nil {
		return nil, outcome.Usage{Err: errors.New("the configuration has no offsite: section: add endpoint, bucket, access_key and secret_key_file (see README.md, \"Offsite copy\")")}
	}
	return c.Offsite, nil
}

// StoreConfig turns the section into the engine's configuration, reading
// the secret key file.
func StoreConfig(o *config.Offsite) (offsite.Config, error) {
	secret, err := secretKey(o.SecretKeyFile)
	if err != nil {
		return offsite.Config{}, err
	}
	var bw int64
	if o.BandwidthLimit != "" {
		if bw, err = units.ParseBytes(o.BandwidthLimit); err != nil {
			return offsite.Config{}, outcome.Usage{Err: fmt.Errorf("offsite.bandwidth_limit: %w", err)}
		}
	}
	return offsite.Config{Endpoint: o.Endpoint, Bucket: o.Bucket, Region: o.Region, AccessKey: o.AccessKey, SecretKey: secret, Addrs: o.Addrs,
		PathStyle: o.PathStyle, CAFile: o.CAFile, Prefix: o.Prefix, BandwidthBytes: bw}, nil
}

// OpenStore opens the configured bucket's client.
func OpenStore(o *config.Offsite) (*offsite.Store, error) {
	cfg, err := StoreConfig(o)
	if err != nil {
		return nil, err
	}
	return offsite.Open(cfg, clock.Wall)
}

// copier builds the copier of the configuration: the sealed view of the
// vault, the trusted clock as the warden keeps it, the store.
func copier(c *config.Config, o *config.Offsite) (*offsite.Copier, error) {
	key, err := vaultctl.ReadKey(c.Vault)
	if err != nil {
		return nil, err
	}
	if len(c.Vault.Disks) == 0 {
		return nil, outcome.Usage{Err: errors.New("the configuration names no vault disks (vault.disks)")}
	}
	sealed, err := vault.OpenSealed(c.Vault.Disks, key)
	if err != nil {
		return nil, err
	}
	store, err := OpenStore(o)
	if err != nil {
		return nil, err
	}
	trusted := clock.Follow(filepath.Join(vaultctl.WardenDir(c.Vault), vault.ClockFile), clock.Wall)
	return &offsite.Copier{Store: store, Vault: sealed, Now: trusted.Now}, nil
}

// Once runs one sync (verify false) or verify, publishes the status and
// writes a summary on o (the report itself with --json).
func Once(ctx context.Context, o outcome.Output, c *config.Config, verify bool) error {
	sec, err := Section(c)
	if err != nil {
		return err
	}
	cp, err := copier(c, sec)
	if err != nil {
		return err
	}
	kind, run := "sync", cp.Sync
	if verify {
		kind, run = "verify", cp.Verify
	}
	rep, err := run(ctx)
	st, _ := offsite.ReadStatus(sec.StateDir)
	st.Endpoint, st.Bucket, st.VaultID = sec.Endpoint, sec.Bucket, cp.Vault.ID()
	if rep.Finished.IsZero() {
		rep.Finished = cp.Now()
	}
	st.Record(kind, rep, err)
	if werr := offsite.WriteStatus(sec.StateDir, st); werr != nil && o.Progress != nil {
		fmt.Fprintf(o.Progress, "warning: status not published in %s: %v\n", sec.StateDir, werr)
	}
	if serr := outcome.Show(o, rep, func(w io.Writer, rep offsite.Report) { describe(w, kind, rep) }); serr != nil {
		return serr
	}
	if err != nil {
		return fmt.Errorf("%w\n  what to do: see 'strongroom offsite status'; a refused or unreachable store is named above, tampering needs new credentials", err)
	}
	return nil
}

func describe(w io.Writer, kind string, rep offsite.Report) {
	fmt.Fprintf(w, "offsite %s: %d of %d restore points offsite", kind, rep.SnapshotsOffsite, rep.Snapshots)
	if rep.NewestOffsite != "" {
		fmt.Fprintf(w, " (newest %s)", rep.NewestOffsite)
	}
	fmt.Fprintf(w, "; %d objects copied (%s), %d locks extended, %d objects checked with HEAD\n",
		rep.ObjectsCopied, units.Bytes(rep.BytesCopied), rep.LocksExtended, rep.ObjectsChecked)
	if rep.LagSeconds > 0 {
		fmt.Fprintf(w, "behind: the oldest restore point not yet offsite has waited %s\n", units.Age(time.Duration(rep.LagSeconds)*time.Second))
	}
	for _, e := range rep.Errors {
		fmt.Fprintln(w, "ERROR:", e)
	}
}

// Run syncs every interval until ctx ends or SIGINT/SIGTERM, saying how
// each run went on out: the service's loop. With pinned (the file 'offsite
// allow-endpoint' wrote) it reaches the endpoint only at those addresses,
// and returns when none of them answers, so that the service restarts and
// resolves the endpoint again.
//
// With checkFirewall it first tries a connection outside the endpoint and
// logs whether the unit's firewall refused it.
func Run(ctx context.Context, out outcome.Output, c *config.Config, pinned string, checkFirewall bool) error {
	o, err := Section(c)
	if err != nil {
		return err
	}
	if pinned != "" {
		if o.Addrs, err = ReadPinned(pinned); err != nil {
			return err
		}
	}
	if checkFirewall {
		sayFirewall(ctx, out.W, FirewallProbe)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	for {
		if err := Once(ctx, out, c, false); err != nil {
			fmt.Fprintln(out.W, "offsite sync failed:", err)
			if errors.Is(err, offsite.ErrPinnedUnreachable) {
				return fmt.Errorf("%w: stopping so that the service resolves the endpoint again", err)
			}
		}
		t := time.NewTimer(o.Interval.D())
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// Status writes the status the copier last published.
func Status(_ context.Context, o outcome.Output, c *config.Config) error {
	sec, err := Section(c)
	if err != nil {
		return err
	}
	st, err := offsite.ReadStatus(sec.StateDir)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no offsite copy has run yet (no %s in %s): start it with 'strongroom offsite sync' or 'systemctl start strongroom-offsite'", offsite.StatusFile, sec.StateDir)
	}
	if err != nil {
		return err
	}
	if err := outcome.Show(o, st, showStatus); err != nil {
		return err
	}
	if st.LastError != "" {
		return outcome.Degraded{Err: errors.New("the last offsite run failed: " + st.LastError)}
	}
	return nil
}

func showStatus(w io.Writer, st offsite.Status) {
	fmt.Fprintf(w, "bucket %s at %s, vault %s\n", st.Bucket, st.Endpoint, st.VaultID)
	if st.LastSuccess.IsZero() {
		fmt.Fprintln(w, "last success: never")
	} else {
		fmt.Fprintf(w, "last success: %s\n", st.LastSuccess.UTC().Format(time.RFC3339))
	}
	describe(w, st.Kind, st.Last)
	fmt.Fprintf(w, "in all: %d runs (%d failed), %d objects and %s copied\n", st.Runs, st.FailedRuns, st.ObjectsCopied, units.Bytes(st.BytesCopied))
	if st.LastError != "" {
		fmt.Fprintln(w, "last run failed:", st.LastError)
	}
}

// secretKey reads the bucket's secret key: on the appliance the
// credential systemd unsealed from the TPM for the offsite unit (its file
// mode is systemd's), elsewhere a 0600 file.
func secretKey(path string) (string, error) {
	if !sealed.IsCredential(path) {
		return offsite.ReadSecretFile(path)
	}
	b, err := sealed.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("offsite secret key: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return strings.TrimSpace(line), nil
}
