// Package progress shows how far long work (a backup, a restore, an
// export, a scrub, a disk replacement, a rollback) has got, for an
// operator waiting at the command line.
//
// A Snapshot is the work's state at one moment: its phase, the units of
// work done of all (mailboxes, items, shards), the items and bytes
// handled, and how long throttling has held it back. A Meter turns a
// series of snapshots into a rate and an estimated time to completion.
// A Reporter shows snapshots: on a terminal as a bar that redraws in
// place (github.com/schollz/progressbar), elsewhere (a pipe, a log, or
// with --json) as one plain line every few seconds.
package progress
