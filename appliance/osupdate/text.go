package osupdate

import (
	"fmt"
	"io"
	"os"

	"github.com/strongroom/strongroom/appliance/units"
)

// TextProgress returns a progress function for Apply that writes each new
// step on a line of w and, within a step, a line every ten percent.
func TextProgress(w io.Writer) func(Progress) {
	last := ""
	var lastPct int64 = -10
	return func(p Progress) {
		if p.Step != last {
			last, lastPct = p.Step, -10
			fmt.Fprintln(w, p.Step)
		}
		if p.Total <= 0 {
			return
		}
		if pct := p.Done * 100 / p.Total; pct/10 != lastPct/10 {
			lastPct = pct
			fmt.Fprintf(w, "  %3d%%  %s of %s\n", pct, units.Bytes(p.Done), units.Bytes(p.Total))
		}
	}
}

// PackSigned packs a bundle signed with the PEM key at keyPath into the
// file out and says so on w: what `strongroom update pack` does.
func PackSigned(o PackOptions, keyPath, out string, w io.Writer) error {
	key, err := LoadSigner(keyPath)
	if err != nil {
		return err
	}
	o.Key = key
	m, err := PackFile(o, out)
	if err == nil {
		fmt.Fprintf(w, "%s: version %s, root hash %s\n", out, m.ImageVersion, m.RootHash)
	}
	return err
}

// PackFile packs a bundle (o.Out is ignored) into the file out: written
// beside it under a temporary name, synced, and renamed into place only
// when complete.
func PackFile(o PackOptions, out string) (*Manifest, error) {
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return nil, err
	}
	o.Out = f
	m, err := Pack(o)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	return m, nil
}

// PrintStatus writes the running slot, both slots' versions and which one
// boots next.
func PrintStatus(w io.Writer, st *Status) {
	trial := ""
	if st.Trial {
		trial = " (on trial: not confirmed healthy yet)"
	}
	fmt.Fprintf(w, "running: slot %s, version %s%s\nroot hash: %s\n", st.Slot, st.ImageVersion, trial, st.RootHash)
	for _, e := range st.Entries {
		state := string(e.State)
		if e.State == Trial {
			state = "trial, " + units.Count(e.TriesLeft, "boot") + " left"
		}
		fmt.Fprintf(w, "slot %s: version %s (%s)  %s\n", e.Slot, e.ImageVersion, state, e.File)
	}
	if st.NextBoot != "" {
		fmt.Fprintf(w, "next boot: slot %s\n", st.NextBoot)
	}
}
