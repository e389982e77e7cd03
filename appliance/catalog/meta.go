package catalog

// Item metadata keys that workloads set on every vault item (vault.Item.Meta)
// and that the catalog indexes for ls and find. Values are plain strings;
// times are RFC 3339 in UTC.
const (
	MetaKind      = "kind"       // one of the Kind constants
	MetaWorkload  = "workload"   // exchange, onedrive, sharepoint, teams
	MetaUserID    = "user_id"    // Graph id of the mailbox owner
	MetaUser      = "user"       // userPrincipalName at backup time
	MetaFolderID  = "folder_id"  // Graph id of the containing folder
	MetaFolder    = "folder"     // display path of the folder, "/"-separated ("Inbox/Signed Contracts")
	MetaSubject   = "subject"    // message subject, event subject, contact display name
	MetaFrom      = "from"       // sender address
	MetaTo        = "to"         // recipients, comma-separated
	MetaDate      = "date"       // received (mail), start (events), modified (contacts)
	MetaItemID    = "item_id"    // Graph id of the item
	MetaMessageID = "message_id" // RFC 5322 Message-ID
	MetaName      = "name"       // display name of a folder, calendar or contact folder
	MetaParentID  = "parent_id"  // parent folder id
	MetaVersion   = "version"    // a file version's id
	MetaLibrary   = "library"    // a SharePoint document library's name
)

// Kinds of items.
const (
	KindMessage       = "message"
	KindMailFolder    = "mail-folder"
	KindContact       = "contact"
	KindContactFolder = "contact-folder"
	KindEvent         = "event"
	KindCalendar      = "calendar"
	KindFile          = "file"         // a drive's file, its current version
	KindFileVersion   = "file-version" // an earlier version of a file
	KindDriveFolder   = "drive-folder" // a drive's folder record
	KindPermissions   = "permissions"  // sharing state of a drive item
	KindSite          = "site"         // a SharePoint site's record
	KindList          = "list"         // a SharePoint list with its columns and items
	KindPage          = "page"         // a SharePoint site page with its canvas layout
	// KindSitePermissions is a site's permissions: its applications'
	// permissions and who has access to each library's root.
	KindSitePermissions = "site-permissions"
	KindState           = "state" // delta links and other per-unit state, not user data
	KindUser            = "user"  // the mailbox owner's directory record
	// Teams and Microsoft 365 groups. MetaUser is the team's or group's
	// mail address, MetaFolder a channel's name.
	KindTeam           = "team"            // a team's record, settings, members and channels
	KindChannel        = "channel"         // a channel's record with its tabs
	KindChannelMessage = "channel-message" // a channel message with its replies
	KindHostedContent  = "hosted-content"  // an image pasted into a channel message
	KindGroup          = "group"           // a group's record, members and owners
	KindGroupThread    = "group-thread"    // a group conversation thread with its posts
)

// Meta keys of Teams items.
const (
	MetaChannelID = "channel_id" // Graph id of a channel
	MetaDeleted   = "deleted"    // when a message was deleted in the tenant (kept as it was before)
)

// IsUserItem reports whether items of kind are what a restore point
// counts as its items: messages, contacts, events, files (current
// versions), SharePoint lists and pages, channel threads and group
// conversation threads; not folder, team, channel or group records,
// earlier versions, sharing state, pasted images, directory records or
// delta state.
func IsUserItem(kind string) bool {
	switch kind {
	case KindMessage, KindContact, KindEvent, KindFile, KindList, KindPage, KindChannelMessage, KindGroupThread:
		return true
	}
	return false
}
