package agent

import (
	"bytes"
	"sort"
	"strings"

	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/storage/vault"
)

// previous is the last snapshot's items, sorted by path, for carry-over.
type previous struct {
	v     *vault.Vault
	items []vault.Item
	byKey map[string]int
}

func loadPrevious(v *vault.Vault, s *vault.Snapshot) (*previous, error) {
	p := &previous{v: v, byKey: map[string]int{}}
	if s == nil {
		return p, nil
	}
	err := v.EachItem(*s, func(it vault.Item) error {
		p.items = append(p.items, it)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(p.items, func(i, j int) bool { return p.items[i].Path < p.items[j].Path })
	for i, it := range p.items {
		p.byKey[it.Path] = i
	}
	return p, nil
}

// Get finds an item by path.
func (p *previous) Get(path string) (vault.Item, bool) {
	i, ok := p.byKey[path]
	if !ok {
		return vault.Item{}, false
	}
	return p.items[i], true
}

// Each visits items whose path starts with prefix, in path order.
func (p *previous) Each(prefix string, fn func(vault.Item) error) error {
	i := sort.Search(len(p.items), func(i int) bool { return p.items[i].Path >= prefix })
	for ; i < len(p.items) && strings.HasPrefix(p.items[i].Path, prefix); i++ {
		if err := fn(p.items[i]); err != nil {
			return err
		}
	}
	return nil
}

// Read returns an item's content.
func (p *previous) Read(it vault.Item) ([]byte, error) {
	var buf bytes.Buffer
	if err := p.v.WriteItem(&buf, it); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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
