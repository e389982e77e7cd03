package agent

import (
	"bytes"
	"sort"
	"strings"

	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// previous is the last snapshot's items, for carry-over.
type previous struct {
	*workloads.ItemsPrevious
	items []vault.Item // sorted by path
}

func loadPrevious(v *vault.Vault, s *vault.Snapshot) (*previous, error) {
	read := func(it vault.Item) ([]byte, error) {
		var buf bytes.Buffer
		err := v.WriteItem(&buf, it)
		return buf.Bytes(), err
	}
	var items []vault.Item
	if s != nil {
		err := v.EachItem(*s, func(it vault.Item) error {
			items = append(items, it)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	ip := workloads.NewItemsPrevious(items, read)
	return &previous{ItemsPrevious: ip, items: ip.Sorted()}, nil
}

// has reports whether any item's path starts with prefix.
func (p *previous) has(prefix string) bool {
	i := sort.Search(len(p.items), func(i int) bool { return p.items[i].Path >= prefix })
	return i < len(p.items) && strings.HasPrefix(p.items[i].Path, prefix)
}

// unitIDs lists the units of workload that have items, from paths
// "<workload>/<escaped id>/...".
func (p *previous) unitIDs(workload string) []string {
	seen := map[string]bool{}
	var out []string
	prefix := workload + "/"
	i := sort.Search(len(p.items), func(i int) bool { return p.items[i].Path >= prefix })
	for ; i < len(p.items); i++ {
		rest, ok := strings.CutPrefix(p.items[i].Path, prefix)
		if !ok {
			break
		}
		id, _, _ := strings.Cut(rest, "/")
		if !seen[id] {
			seen[id] = true
			out = append(out, workloads.UnescapeID(id))
		}
	}
	return out
}
