package agent

import (
	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/storage/vault"
)

// withHistory adds to the selected files what --all-versions and
// --permissions restore with them: the snapshot's earlier versions and
// stored permissions of those files.
func (a *Agent) withHistory(snap vault.Snapshot, items []vault.Item, req RestoreRequest) ([]vault.Item, error) {
	if !req.AllVersions && !req.Permissions {
		return items, nil
	}
	if req.AllVersions && req.Version != "" {
		return nil, invalid("version all_versions", "a restore takes one earlier version or all of them, not both")
	}
	key := func(m map[string]string) string { return m[onedrive.MetaDriveID] + "/" + m[catalog.MetaItemID] }
	files := map[string]bool{}
	for _, it := range items {
		if it.Meta[catalog.MetaKind] == catalog.KindFile {
			files[key(it.Meta)] = true
		}
	}
	if len(files) == 0 {
		return items, nil
	}
	out := items
	err := a.v.EachItem(snap, func(it vault.Item) error {
		k := it.Meta[catalog.MetaKind]
		if files[key(it.Meta)] && (req.AllVersions && k == catalog.KindFileVersion || req.Permissions && k == catalog.KindPermissions) {
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

// withTeam adds to a selection that holds a team's record (--kind team)
// the snapshot's threads and pasted images of that team, which a team
// created again as a whole is filled with.
func (a *Agent) withTeam(snap vault.Snapshot, items []vault.Item) ([]vault.Item, error) {
	teams, have := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		have[it.Path] = true
		if it.Meta[catalog.MetaKind] == catalog.KindTeam {
			teams[it.Meta[catalog.MetaUserID]] = true
		}
	}
	if len(teams) == 0 {
		return items, nil
	}
	out := items
	err := a.v.EachItem(snap, func(it vault.Item) error {
		k := it.Meta[catalog.MetaKind]
		if teams[it.Meta[catalog.MetaUserID]] && !have[it.Path] && (k == catalog.KindChannelMessage || k == catalog.KindHostedContent) {
			out = append(out, it)
		}
		return nil
	})
	return out, err
}
