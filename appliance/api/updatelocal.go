package api

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/strongroom/strongroom/appliance/osupdate"
)

// SystemUpdater is the Updater of the machine this process runs on: its
// boot disk through osupdate, a restart through systemd. Only the update
// service runs it, as root.
type SystemUpdater struct{ sys *osupdate.System }

// NewSystemUpdater returns the running appliance's updater. Outside an
// appliance image its Status returns ErrNotAppliance.
func NewSystemUpdater(sys *osupdate.System) *SystemUpdater { return &SystemUpdater{sys: sys} }

func notAppliance(err error) error {
	if errors.Is(err, osupdate.ErrNotAppliance) {
		return ErrNotAppliance
	}
	return err
}

// Status implements Updater.
func (u *SystemUpdater) Status() (*OSStatus, error) {
	st, err := u.sys.Status()
	if err != nil {
		return nil, notAppliance(err)
	}
	return recode[OSStatus](st, nil)
}

// Find implements Updater.
func (u *SystemUpdater) Find() ([]OSCandidate, error) {
	cands, err := u.sys.Find()
	out := make([]OSCandidate, 0, len(cands))
	for _, c := range cands {
		oc := OSCandidate{Path: c.Path}
		if c.Err != nil {
			oc.Problem = c.Err.Error()
		} else if c.Manifest != nil {
			oc.Manifest = &OSManifest{ImageVersion: c.Manifest.ImageVersion, Version: c.Manifest.Version, RootHash: c.Manifest.RootHash}
		}
		out = append(out, oc)
	}
	return out, notAppliance(err)
}

// Apply implements Updater.
func (u *SystemUpdater) Apply(ctx context.Context, path string, o OSApplyOptions) (*OSResult, error) {
	opts := osupdate.ApplyOptions{AllowDowngrade: o.AllowDowngrade}
	if o.Progress != nil {
		opts.Progress = func(p osupdate.Progress) { o.Progress(OSProgress{Step: p.Step, Done: p.Done, Total: p.Total}) }
	}
	res, err := u.sys.Apply(ctx, path, opts)
	return osResult(res, err)
}

// Rollback implements Updater.
func (u *SystemUpdater) Rollback() (*OSResult, error) { return osResult(u.sys.Rollback()) }

// Reboot implements Updater.
func (u *SystemUpdater) Reboot() error {
	out, err := exec.Command("systemctl", "reboot").CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl reboot: %v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func osResult(res *osupdate.Result, err error) (*OSResult, error) {
	if res == nil {
		return nil, notAppliance(err)
	}
	return &OSResult{Slot: OSSlot(res.Slot), ImageVersion: res.ImageVersion, Message: res.Message}, notAppliance(err)
}

var _ Updater = (*SystemUpdater)(nil)
