// Package catalog is the searchable list of what each snapshot holds: one
// record per backed-up item with the metadata workloads attach (see the
// Meta constants), kept in badger for ls and find. Like the vault's index it
// is derived data, rebuilt from the snapshots' item lists.
package catalog
