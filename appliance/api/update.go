package api

import (
	"context"
	"errors"
)

// Updater is the appliance's software update, served by the root-owned
// update service (strongroom-update.service) on its own socket: the
// console asks it to install, roll back and restart; it never writes the
// boot disk itself. Apply calls o.Progress from its own goroutine.
type Updater interface {
	Status() (*OSStatus, error)
	Find() ([]OSCandidate, error)
	Apply(ctx context.Context, path string, o OSApplyOptions) (*OSResult, error)
	Rollback() (*OSResult, error)
	// Reboot asks the system to restart; it returns once the restart is
	// under way (or refused).
	Reboot() error
}

// DefaultUpdateSocket is where the appliance's update service listens: a
// directory only root can write, so the agent's user cannot put a socket
// of its own in its place.
const DefaultUpdateSocket = "/run/strongroom-update/update.sock"

// ErrNotAppliance is the update service's answer on a machine that was
// not booted from a Strongroom image.
var ErrNotAppliance = errors.New("not running from a Strongroom appliance image (no strongroom.slot= on the kernel command line)")

// OSSlot names one of the two root slots: "a" or "b".
type OSSlot string

// Other returns the slot that is not s.
func (s OSSlot) Other() OSSlot {
	if s == "a" {
		return "b"
	}
	return "a"
}

// OSEntryState says how the boot loader treats a slot's boot entry.
type OSEntryState string

// The entry states.
const (
	OSGood  OSEntryState = "good"  // booted healthily (or shipped so)
	OSTrial OSEntryState = "trial" // tries left, not yet confirmed healthy
	OSBad   OSEntryState = "bad"   // out of tries: sorted behind every other entry
)

// OSEntry is one slot's boot entry.
type OSEntry struct {
	Slot         OSSlot       `json:"slot"`
	File         string       `json:"file"`
	State        OSEntryState `json:"state"`
	TriesLeft    int          `json:"tries_left"` // -1 without a counter
	TriesDone    int          `json:"tries_done"`
	ImageVersion string       `json:"image_version"`
	Version      string       `json:"version"`
	RootHash     string       `json:"root_hash"`
}

// OSStatus is the running slot, both boot entries and what boots next.
type OSStatus struct {
	Slot         OSSlot    `json:"slot"`
	ImageVersion string    `json:"image_version"`
	Version      string    `json:"version"`
	RootHash     string    `json:"root_hash"`
	Entries      []OSEntry `json:"entries"`
	// Trial is set while the running slot has not been confirmed healthy.
	Trial    bool   `json:"trial"`
	NextBoot OSSlot `json:"next_boot"`
}

// Entry returns the boot entry of slot s, or nil.
func (st *OSStatus) Entry(s OSSlot) *OSEntry {
	for i := range st.Entries {
		if st.Entries[i].Slot == s {
			return &st.Entries[i]
		}
	}
	return nil
}

// OSManifest is the signed description of an update bundle.
type OSManifest struct {
	ImageVersion string `json:"image_version"`
	Version      string `json:"version"`
	RootHash     string `json:"root_hash"`
}

// OSCandidate is a bundle found on an attached disk. Problem says why it
// does not verify; Manifest is set only when it does.
type OSCandidate struct {
	Path     string      `json:"path"`
	Manifest *OSManifest `json:"manifest,omitempty"`
	Problem  string      `json:"problem,omitempty"`
}

// OSProgress is a step of an installation: Done of Total bytes.
type OSProgress struct {
	Step  string `json:"step"`
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
}

// OSResult says what an update operation changed.
type OSResult struct {
	Slot         OSSlot `json:"slot"`
	ImageVersion string `json:"image_version"`
	Message      string `json:"message"`
}

// OSApplyOptions change an installation.
type OSApplyOptions struct {
	// AllowDowngrade installs a bundle that is not newer than the running
	// image.
	AllowDowngrade bool `json:"allow_downgrade,omitempty"`
	// Progress receives each step; it does not travel.
	Progress func(OSProgress) `json:"-"`
}
