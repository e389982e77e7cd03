package catalog_test

import (
	"fmt"
	"testing"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/storage/vault"
)

// benchItems is n messages spread over 10 users and 7 folders each.
func benchItems(n int) []vault.Item {
	items := make([]vault.Item, n)
	for i := range items {
		items[i] = msg(fmt.Sprintf("user%d@contoso.com", i%10), fmt.Sprintf("Inbox/f%d", i%7), fmt.Sprintf("status %d", i),
			fmt.Sprintf("sender%d@contoso.com", i%37), fmt.Sprintf("2026-%02d-01T09:00:00Z", 1+i%12))
	}
	return items
}

func addAll(c *catalog.Catalog, snap string, items []vault.Item) error {
	return c.Add(snap, func(fn func(vault.Item) error) error {
		for _, it := range items {
			if err := fn(it); err != nil {
				return err
			}
		}
		return nil
	})
}

// BenchmarkCatalogAdd measures cataloguing a snapshot of 10,000 messages
// (an op), as the agent does after every backup.
func BenchmarkCatalogAdd(b *testing.B) {
	c, err := catalog.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	items := benchItems(10000)
	n := 0
	for b.Loop() {
		n++
		if err := addAll(c, fmt.Sprint("s", n), items); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCatalogLookup measures browsing and searching a snapshot of
// 10,000 messages: a folder listing, and a search by sender (both scan the
// snapshot's entries).
func BenchmarkCatalogLookup(b *testing.B) {
	c, err := catalog.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := addAll(c, "s1", benchItems(10000)); err != nil {
		b.Fatal(err)
	}
	b.Run("op=list", func(b *testing.B) {
		for b.Loop() {
			if nodes, err := c.List("s1", "user3@contoso.com/Mail/Inbox"); err != nil || len(nodes) != 7 {
				b.Fatalf("List = %d nodes, %v; want 7 folders", len(nodes), err)
			}
		}
	})
	b.Run("op=find", func(b *testing.B) {
		for b.Loop() {
			found := 0
			err := c.Find("s1", catalog.Query{From: "sender7@"}, func(catalog.Entry) error { found++; return nil })
			if err != nil || found == 0 {
				b.Fatalf("Find = %d entries, %v", found, err)
			}
		}
	})
}
