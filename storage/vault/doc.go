// Package vault is the storage engine's facade: the one API the agent, the
// warden and the command line use to keep backups on the box's disks.
//
// Words used here:
//
//   - Disk: a directory that is the mount point of one local disk. Its
//     label file says which vault it belongs to and which shard slot it
//     holds.
//   - Layout: K data and M parity shards per segment, one per disk, chosen
//     from the number of disks (see ChooseLayout). Any M disks may be lost.
//   - Placement: how the disk directories lie on devices (file systems, by
//     st_dev). Directories on one device fail together and share its
//     space, so what a layout survives and holds depends on it (Place,
//     UsableBytes); four directories of one file system survive no loss.
//   - Work: how far a scrub or a disk replacement has got, reported after
//     each segment to a watcher (ScrubWatched, ReplaceDiskWatched).
//   - Chunk: a piece of an item's content, cut by content-defined chunking,
//     named by its keyed BLAKE3 ID, compressed when that pays and sealed
//     with AES-256-GCM under a per-segment key. Identical chunks are stored
//     once.
//   - Segment: a write-once container of sealed chunks plus a sealed table
//     of contents, erasure-coded into one shard file per disk (package
//     segment). Segments are never modified after they are written.
//   - Item: one backed-up object (a message, a file version) as an ordered
//     list of chunk IDs plus metadata.
//   - Snapshot: a named, timestamped, retention-locked set of items. Its
//     manifest is written to every disk, and only after every segment it
//     needs is durable and indexed; a snapshot exists exactly when its
//     manifest does.
//   - Index: derived lookup data (package index) that RebuildIndex recreates
//     from the segments alone.
//   - Retain-until: the earliest time a snapshot may be removed. It only
//     ever grows. Segment retention is the maximum over the snapshots that
//     reference it.
//   - Warden: the small privileged role (package storage/warden) that
//     seals files and directories through [Custody], keeps its own ledger
//     and trusted clock, and expires what its ledger says is past its
//     retain-until. The vault only reads the warden's clock ([Vault.Clock]);
//     the agent never needs the warden's privilege.
//
// The on-disk format is specified in storage/FORMAT.md.
package vault
