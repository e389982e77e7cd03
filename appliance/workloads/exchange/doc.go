// Package exchange backs up and restores Exchange Online mailboxes (mail,
// contacts, calendars) through Microsoft Graph into vault snapshots.
//
// Words used here:
//
//   - Collection: a container Graph keeps a change log for and that this
//     package syncs as one unit: a mail folder, a contact folder or a
//     calendar. Every collection has its own delta state.
//   - Series: Graph v1.0 lists a recurring series under /events as its
//     master (type seriesMaster, with its recurrence); its exceptions are
//     served only by /events/{id}/instances (and calendarView), and a
//     deleted occurrence by nothing at all. A backup reads each new or
//     changed master's instances over the series (an open-ended series
//     up to three years past its start or last change), keeps the
//     exceptions, and records as deleted the occurrences that the
//     expanded pattern has and the instances lack, on the stored master
//     (export.AnnotationExceptions, export.AnnotationCancelled). A pattern
//     or zone that cannot be expanded records no deletions.
//   - Delta state: the @odata.deltaLink a collection's last complete
//     enumeration ended with. It is stored as an item of kind "state" at
//     exchange/<user>/_state/<kind>/<collection>.delta in the same snapshot
//     whose items it describes, so a token is only ever used together with
//     the snapshot that was written with it.
//   - Carry-over: an item of the previous snapshot recorded again in the
//     new one with Sink.Add, without downloading it. Unchanged items cost
//     no request.
//   - Version: what tells an item's versions apart without its content:
//     the changeKey Graph returns, else lastModifiedDateTime. Both are kept
//     in the item's Meta (MetaChangeKey, MetaModified).
//   - Resync: a full enumeration of one collection after Graph refused its
//     delta token (410 Gone, resyncRequired). Items are matched to the
//     previous snapshot by id and version, so a resync downloads only what
//     really changed and neither loses nor duplicates items.
//
// Layout of a mailbox in a snapshot (ids are escaped with EscapeID):
//
//	exchange/<user>/_user.json                       directory record
//	exchange/<user>/mail/<folder>/_folder.json       folder record
//	exchange/<user>/mail/<folder>/<message>.eml      MIME as served by $value
//	exchange/<user>/contacts/<folder>/<contact>.json contact JSON as Graph returns it
//	exchange/<user>/calendars/<calendar>/<event>.json event JSON as Graph returns it (a series
//	                                                 master with its exceptions and deleted
//	                                                 occurrences, below)
//	exchange/<user>/_state/<kind>/<collection>.delta delta link
//
// Failure rules: an item whose download fails (after Options.ItemRetries
// retries) or arrives shorter than its Content-Length is never stored as
// new content; it is counted in Result.Failed and named in Result.Errors,
// a changed item keeps its previous version, and its collection's delta
// state is not advanced (the previous state item is carried over), so the
// next run picks the item up again.
//
// Restore writes through the restore app's client back to the items'
// original places in the target mailbox (mail folders by path, contact
// folders, calendars; missing ones created), or beneath a folder, with a
// collision policy (skip, copy, replace) decided by Internet Message-ID
// for mail and by immutable ID or content key for contacts and events
// (see RestoreItems). A message is created from its MIME; one over Graph's
// 4 MB request limit is created without its largest top-level
// attachments, which then go through attachment upload sessions, read
// from the vault as they are sent (restoreLarge).
package exchange
