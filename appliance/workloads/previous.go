package workloads

import (
	"sort"
	"strings"

	"github.com/strongroom/strongroom/storage/vault"
)

// ItemsPrevious is a Previous over a list of a snapshot's items held in
// memory, with read fetching content (vault.Vault.WriteItem into a
// buffer, for instance). It is safe for concurrent use once built.
type ItemsPrevious struct {
	byPath map[string]vault.Item
	sorted []vault.Item
	read   func(vault.Item) ([]byte, error)
}

// NewItemsPrevious indexes items; read returns an item's content.
func NewItemsPrevious(items []vault.Item, read func(vault.Item) ([]byte, error)) *ItemsPrevious {
	p := &ItemsPrevious{byPath: make(map[string]vault.Item, len(items)), sorted: append([]vault.Item(nil), items...), read: read}
	sort.Slice(p.sorted, func(i, j int) bool { return p.sorted[i].Path < p.sorted[j].Path })
	for _, it := range p.sorted {
		p.byPath[it.Path] = it
	}
	return p
}

// Get returns the item at path.
func (p *ItemsPrevious) Get(path string) (vault.Item, bool) {
	it, ok := p.byPath[path]
	return it, ok
}

// Each calls fn for the items under prefix, in path order.
func (p *ItemsPrevious) Each(prefix string, fn func(vault.Item) error) error {
	i := sort.Search(len(p.sorted), func(i int) bool { return p.sorted[i].Path >= prefix })
	for ; i < len(p.sorted) && strings.HasPrefix(p.sorted[i].Path, prefix); i++ {
		if err := fn(p.sorted[i]); err != nil {
			return err
		}
	}
	return nil
}

// Sorted returns the items in path order (the slice is shared: do not
// change it).
func (p *ItemsPrevious) Sorted() []vault.Item { return p.sorted }

// Read returns an item's content.
func (p *ItemsPrevious) Read(it vault.Item) ([]byte, error) { return p.read(it) }
