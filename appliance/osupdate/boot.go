package osupdate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Slot names one of the two root slots: "a" or "b".
type Slot string

// The two slots.
const (
	SlotA Slot = "a"
	SlotB Slot = "b"
)

// Other returns the slot that is not s.
func (s Slot) Other() Slot {
	if s == SlotA {
		return SlotB
	}
	return SlotA
}

func parseSlot(s string) (Slot, error) {
	switch Slot(s) {
	case SlotA, SlotB:
		return Slot(s), nil
	}
	return "", fmt.Errorf("slot %q: want a or b", s)
}

// EntryState says how systemd-boot treats a boot entry.
type EntryState string

// Entry states.
const (
	// Good: no boot counter; the slot has booted healthily (or shipped so).
	Good EntryState = "good"
	// Trial: a counter with tries left; not yet confirmed healthy.
	Trial EntryState = "trial"
	// Bad: no tries left; sorted behind every other entry.
	Bad EntryState = "bad"
)

// Entry is one slot's boot entry on the ESP (EFI/Linux/strongroom-<slot>
// [+LEFT[-DONE]].efi).
type Entry struct {
	Slot         Slot       `json:"slot"`
	File         string     `json:"file"`
	State        EntryState `json:"state"`
	TriesLeft    int        `json:"tries_left"` // -1 without a counter
	TriesDone    int        `json:"tries_done"`
	ImageVersion string     `json:"image_version"`
	Version      string     `json:"version"`
	RootHash     string     `json:"root_hash"`
}

const entryPrefix = "strongroom-"

// entriesDir is where systemd-boot finds type #2 entries, relative to the
// ESP.
const entriesDir = "EFI/Linux"

// parseEntryName splits strongroom-b+2-1.efi into slot b, 2 tries left, 1
// done. Names without a counter have left = -1.
func parseEntryName(name string) (slot Slot, left, done int, ok bool) {
	lower := strings.ToLower(name)
	base, found := strings.CutSuffix(lower, ".efi")
	if !found {
		return "", 0, 0, false
	}
	base, found = strings.CutPrefix(base, entryPrefix)
	if !found || len(base) == 0 {
		return "", 0, 0, false
	}
	s, err := parseSlot(base[:1])
	if err != nil {
		return "", 0, 0, false
	}
	rest := base[1:]
	if rest == "" {
		return s, -1, 0, true
	}
	counter, found := strings.CutPrefix(rest, "+")
	if !found {
		return "", 0, 0, false
	}
	l, d, hasDone := strings.Cut(counter, "-")
	left, err = strconv.Atoi(l)
	if err != nil || left < 0 {
		return "", 0, 0, false
	}
	if hasDone {
		if done, err = strconv.Atoi(d); err != nil || done < 0 {
			return "", 0, 0, false
		}
	}
	return s, left, done, true
}

func entryName(slot Slot, left int) string {
	if left < 0 {
		return entryPrefix + string(slot) + ".efi"
	}
	return fmt.Sprintf("%s%s+%d.efi", entryPrefix, slot, left)
}

// readEntries lists the Strongroom boot entries on the ESP, in the order
// systemd-boot sorts them (the first one boots next).
func readEntries(esp string) ([]Entry, error) {
	dir := filepath.Join(esp, entriesDir)
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read boot entries: %w (is the EFI system partition mounted on %s?)", err, esp)
	}
	var out []Entry
	for _, de := range des {
		slot, left, done, ok := parseEntryName(de.Name())
		if !ok || de.IsDir() {
			continue
		}
		e := Entry{Slot: slot, File: de.Name(), TriesLeft: left, TriesDone: done, State: Good}
		switch {
		case left == 0:
			e.State = Bad
		case left > 0:
			e.State = Trial
		}
		if f, err := os.Open(filepath.Join(dir, de.Name())); err == nil {
			if k, err := ReadKernelImage(f); err == nil {
				e.ImageVersion = k.OSRel["IMAGE_VERSION"]
				e.Version = k.OSRel["VERSION_ID"]
				e.RootHash = k.Param("roothash")
			}
			f.Close()
		}
		out = append(out, e)
	}
	sortEntries(out)
	return out, nil
}

// sortEntries orders entries as systemd-boot 252 does for type #2 entries
// sharing one sort key: entries without tries left last, then newest
// version first, then by file name (descending), then more tries left and
// fewer tries done first.
func sortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if (a.TriesLeft == 0) != (b.TriesLeft == 0) {
			return b.TriesLeft == 0
		}
		if c := compareVersions(a.ImageVersion, b.ImageVersion); c != 0 {
			return c > 0
		}
		if c := compareVersions(strings.ToLower(a.File), strings.ToLower(b.File)); c != 0 {
			return c > 0
		}
		if a.TriesLeft != b.TriesLeft {
			return a.TriesLeft > b.TriesLeft
		}
		return a.TriesDone < b.TriesDone
	})
}

// compareVersions compares version strings the way systemd's
// strverscmp_improved does for the versions this appliance writes: runs of
// digits compare as numbers, everything else byte by byte.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		switch {
		case da && db:
			na, ra := splitRun(a, isDigit)
			nb, rb := splitRun(b, isDigit)
			na, nb = strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if len(na) != len(nb) {
				return cmpInt(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = ra, rb
		case da != db:
			// A number sorts after a separator or letter.
			if da {
				return 1
			}
			return -1
		default:
			if a[0] != b[0] {
				return cmpInt(int(a[0]), int(b[0]))
			}
			a, b = a[1:], b[1:]
		}
	}
	return cmpInt(len(a), len(b))
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func splitRun(s string, f func(byte) bool) (string, string) {
	i := 0
	for i < len(s) && f(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
