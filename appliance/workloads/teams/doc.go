// Package teams backs up Microsoft Teams through Microsoft Graph: every
// team of the tenant, archived ones included, with its settings, members
// and owners, every channel (standard, private, shared) with its tabs,
// and every channel message with its replies, reactions, mentions,
// importance, file references and pasted images.
//
// A team is one protected unit, named by its group's mail address. Its
// layout in a snapshot (ids escaped with workloads.EscapeID):
//
//	teams/<team>/_team.json                           {"team": ..., "members": [...], "channels": [...]}
//	teams/<team>/channels/<channel>/_channel.json     {"channel": ..., "tabs": [...]}
//	teams/<team>/channels/<channel>/_state/delta      the channel's messages deltaLink
//	teams/<team>/channels/<channel>/messages/<id>.json  {"message": ..., "replies": [...], "hosted": [...]}
//	teams/<team>/channels/<channel>/hosted/<message>/<hosted id>   a pasted image's bytes
//
// Words used here:
//
//   - A thread is a top-level channel message with its replies; it is
//     stored as one item, so a new reply or an edit stores the thread
//     again (the vault deduplicates what did not change).
//   - Messages come incrementally from the channel's messages delta. A
//     thread whose message Graph returns unchanged (the same JSON) is
//     carried over; so is every thread the delta does not name. When
//     Graph refuses the deltaLink (410), the channel is enumerated in
//     full and compared the same way, so only what changed is stored.
//   - A reply changes its thread's lastModifiedDateTime, which makes the
//     thread part of the delta; the replies are then read again.
//   - A message deleted in Teams (deletedDateTime set, or @removed) keeps
//     the content the previous snapshot held, marked with MetaDeleted:
//     what a user deleted is still in the backup as it was.
//   - Hosted contents (images pasted into a message) are read from the
//     $value URLs the message body references, once: a later run carries
//     them from the previous snapshot.
//   - A channel gone from the team is not carried: the snapshot, like the
//     tenant, no longer has it, and its messages count as removed. An
//     earlier snapshot still has it.
//
// Files shared in channels are references: the files themselves are in
// the team's SharePoint site, which the sharepoint workload backs up.
package teams
