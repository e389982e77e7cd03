package vaultctl

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// Snapshots writes the vault's snapshots, oldest first: a table, or their
// records without item lists.
func Snapshots(o outcome.Output, v *vault.Vault) error {
	snaps, err := snapshots(v)
	if err != nil {
		return err
	}
	now := v.Clock().Now()
	return outcome.Show(o, snaps, func(w io.Writer, s []vault.Snapshot) { printSnapshots(w, s, now) })
}

// snapshots returns the vault's snapshots, oldest first, without their
// item lists (an empty list, not nil, when there are none).
func snapshots(v *vault.Vault) ([]vault.Snapshot, error) {
	snaps, err := v.Snapshots()
	if err != nil {
		return nil, err
	}
	for i := range snaps {
		snaps[i].ItemList = nil
	}
	if snaps == nil {
		snaps = []vault.Snapshot{}
	}
	return snaps, nil
}

// printSnapshots writes snapshots as a table; now, on the vault's trusted
// clock, tells which are locked.
func printSnapshots(w io.Writer, snaps []vault.Snapshot, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tITEMS\tSIZE\tNEW\tRETAIN UNTIL\tNAME")
	for _, s := range snaps {
		retain := "-"
		if !s.RetainUntil.IsZero() {
			retain = s.RetainUntil.UTC().Format(time.RFC3339)
			if s.RetainUntil.After(now) {
				retain += " (locked)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Created.UTC().Format(time.RFC3339), s.Items,
			units.Bytes(s.Bytes), units.Bytes(s.NewBytes), retain, s.Name)
	}
	tw.Flush()
	fmt.Fprintln(w, units.Count(len(snaps), "snapshot"))
}

// ListedItem is how List shows an item in JSON.
type ListedItem struct {
	Path    string            `json:"path"`
	Size    int64             `json:"size"`
	ModTime time.Time         `json:"mtime"`
	Mode    string            `json:"mode"`
	Hash    string            `json:"hash"`
	Meta    map[string]string `json:"meta,omitempty"`
}

// List writes the items of snapshot ref (an ID, a unique prefix of one, or
// "latest") at or below prefix ("" for all) in path order: one line an
// item, or with asJSON an array of ListedItem written as it is read.
func List(w io.Writer, v *vault.Vault, ref, prefix string, asJSON bool) error {
	s, err := v.Snapshot(ref)
	if err != nil {
		return err
	}
	prefix = strings.Trim(prefix, "/")
	n := 0
	if asJSON {
		fmt.Fprint(w, "[")
	}
	err = v.EachItem(s, func(it vault.Item) error {
		if prefix != "" && it.Path != prefix && !strings.HasPrefix(it.Path, prefix+"/") {
			return nil
		}
		li := ListedItem{Path: it.Path, Size: it.Size, ModTime: time.Unix(0, it.ModTime).UTC(),
			Mode: os.FileMode(it.Mode).String(), Hash: it.Hash.String(), Meta: it.Meta}
		n++
		if !asJSON {
			_, err := fmt.Fprintf(w, "%s %12d %s %s\n", li.Mode, li.Size, li.ModTime.Format("2006-01-02 15:04:05"), li.Path)
			return err
		}
		b, err := json.Marshal(li)
		if err != nil {
			return err
		}
		sep := ","
		if n == 1 {
			sep = ""
		}
		_, err = fmt.Fprintf(w, "%s\n  %s", sep, b)
		return err
	})
	if asJSON {
		fmt.Fprint(w, "\n]\n")
	}
	return err
}
