// Package onedrive backs up users' OneDrive for Business drives through
// Microsoft Graph into vault snapshots: every file with its earlier
// versions, every folder, and the sharing state of shared items.
//
// Words used here:
//
//   - Unit: one user. Backup asks Graph for the user's drive; a user
//     without one (never signed in to OneDrive, unlicensed) has nothing to
//     protect and is reported as such (workloads.ErrUnitGone).
//   - Delta state: the @odata.deltaLink the drive's last complete
//     enumeration (/drives/{id}/root/delta) ended with, stored as an item of
//     kind "state" in the same snapshot as the items it describes. An
//     incremental run asks only for what changed since; Graph's 410 answers
//     (resyncChangesApplyDifferences, resyncChangesUploadDifferences) are
//     met the same way: a full enumeration compared with the previous
//     snapshot, which downloads only what really changed, then the next
//     deltaLink. A backup only reads, so the two codes need no different
//     handling.
//   - Tree: a drive's folders and files by id with their parent ids. Delta
//     pages report changed items only, so display paths are worked out from
//     the tree after every change is applied: a renamed or moved folder
//     moves everything beneath it without any request or download.
//   - Content version: what tells a file's content apart without reading
//     it: its quickXorHash (and cTag). A file whose hash is unchanged is
//     carried over under its new name or place; every other is downloaded.
//
// Layout of a drive in a snapshot (ids escaped with workloads.EscapeID):
//
//	onedrive/<user>/_drive.json                          the drive record as Graph returned it
//	onedrive/<user>/folders/<item>.json                  folder record (driveItem JSON)
//	onedrive/<user>/files/<item>                         a file's current content
//	onedrive/<user>/versions/<item>/<version>            content of an earlier version
//	onedrive/<user>/permissions/<item>.json              permissions of a shared item
//	onedrive/<user>/_state/delta                         the delta link
//
// Every file's metadata (name, parent, display folder, size, hashes, mime
// type, created and modified by and when) is in its item's Meta.
//
// Downloads go through the item's pre-authenticated URL
// (@microsoft.graph.downloadUrl, or the 302 of /content) without the bearer
// token, streamed into the vault: memory does not grow with file size.
// Every file's quickXorHash is computed while it streams and compared with
// what Graph reported; a mismatch or a short body is retried, then counted
// as failed and never recorded as the file's content.
//
// Failure rules: an item that fails keeps its previous version in the new
// snapshot when it had one, and the drive's delta state is not advanced
// (the previous one is carried), so the next run sees the change again.
package onedrive
