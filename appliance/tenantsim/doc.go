// Package tenantsim is a local Microsoft 365 tenant that speaks Microsoft
// Graph v1.0 over HTTPS, for tests, demos, load and fault drills. The
// agent talks to it exactly as to Graph, with msgraph-sdk-go and azidentity;
// tests and operators control it through Go methods and /_sim/ endpoints.
//
// Words used in this package:
//
//   - Tenant: the directory a Sim generates from Config.Seed and
//     Config.Users. Generation never reads the clock or global randomness,
//     so the same Config gives the same users, ids and MIME bytes.
//     What was added to the generator later (shared mailboxes, site
//     pages, hosted contents, group conversations) comes after the rest
//     and draws from random streams of its own, so it leaves the ids,
//     MIME and order of what was generated before unchanged.
//     Only the TLS keys, client secrets and token key are fresh per Sim.
//
//   - App: an application registration. The backup app holds read roles
//     (Mail.Read, ...); the restore app holds the ReadWrite roles. A
//     route answers 403 when the caller's token lacks its permission.
//
//   - Access token: issued by the client-credentials grant at
//     /{tenant}/oauth2/v2.0/token; an HMAC-signed claim set (app, roles,
//     expiry), opaque to clients. ExpireTokens voids all issued tokens.
//
//   - Collection: a container with a change log — a mail folder, contact
//     folder or calendar. Every change to a member (add, remove, move in
//     or out) takes the next tenant-wide sequence number.
//
//   - Delta token: a signed position in one collection's change log.
//     A delta query without a token pages through the members present at
//     a snapshot; with a delta link it returns only items changed since
//     its position, removed ones as "@removed" entries. Tokens from
//     before ExpireDeltaTokens, for another folder, or tampered with get
//     410 Gone (resyncRequired).
//
//   - Series: an event with a recurrence (daily or weekly here) is a
//     series master; its occurrences have ids of their own (master id,
//     "_OCC", original start) and come from /events/{id}/instances,
//     calendarView and calendarView/delta (which require startDateTime
//     and endDateTime), never from /events. PATCH on an occurrence makes
//     it an exception and DELETE cancels it; either is a new version of
//     the master.
//
//   - Mailbox: the mail, contacts and calendars of a licensed, not
//     deleted user or of a shared mailbox; it is also the unit of
//     throttling. An unlicensed user has none (404
//     MailboxNotEnabledForRESTAPI on mail paths).
//
//   - Shared mailbox: one per ten users (at least one), "info@",
//     "support@", ...: an account without a license and with sign-in
//     blocked (accountEnabled false) that has a mailbox with mail, as
//     Exchange Online creates them. It is listed in /users with mail set,
//     after every other account, and has no OneDrive.
//
//   - Throttle: per-mailbox (or per-drive) limits on requests in flight
//     and requests per window, plus tenant-wide SharePoint/OneDrive
//     resource units per minute and Teams requests per second, answered
//     with 429 and Retry-After (ThrottleMode).
//
//   - Fault: an injected failure (503/504 burst, slow answer, truncated
//     body, connection reset, expired tokens), see Faults.
//
//   - Scenario: a named mutation (delete-folder, mail-burst,
//     deprovision-user, ...) applied with Apply or POST /_sim/scenario.
//     modify-messages changes messages in place (isRead, categories):
//     same id, folder and MIME, a new changeKey and lastModifiedDateTime,
//     and the next delta of the folder returns them as changed.
//     large-mail delivers LargeMail (attachments of 30 MiB and 140 MB)
//     into a folder.
//
//   - Request limit: a Graph request body over 4 MB is refused with 413
//     RequestEntityTooLarge (a drive's simple upload takes 250 MB); PUTs
//     to upload-session URLs are not Graph requests and are exempt.
//
//   - Ground truth: DumpMailbox and GET /_sim/dump/mailbox/{user}, the
//     exact current MIME of every message with its folder path, against
//     which a restore is compared byte for byte.
//
//   - Drive: a user's OneDrive or a site's document library; files keep
//     every version, the last being the current content. Drive delta
//     pages through the drive's change collection like mail delta.
//     DumpDrive is the drive's ground truth (DriveDump.Files: path to
//     current bytes); DumpDriveAt gives it as it stood at a scenario's
//     ScenarioResult.Before, e.g. before ransomware. Deleted files are
//     served as Graph v1.0 serves them to a backup: through drive delta,
//     with the "deleted" facet; v1.0 has no recycle bin for drives, so
//     none is served. Drive delta takes token=latest (an empty page whose delta
//     link starts now) and answers a voided token with 410
//     resyncChangesApplyDifferences or resyncChangesUploadDifferences
//     (chosen by seed, drive and expiry) and a Location that starts a
//     fresh enumeration. A drive is also reached as /users/{id}/drive/...
//     and /sites/{id}/drive/..., and an item by path, as
//     .../root:/folder/file.txt: or .../items/{id}:/path:, followed or
//     not by more (":/content", ":/children", an upload).
//
//   - Download host: a second HTTPS listener, on another host name
//     (Config.DownloadHost, "localhost" by default), that serves file
//     content as SharePoint does. GET .../content and
//     .../versions/{id}/content answer 302 to a URL on it, and files and
//     versions carry the same kind of URL as
//     @microsoft.graph.downloadUrl: a tempauth token signed for one
//     version, valid for an hour. It takes no bearer token and refuses
//     a request carrying an Authorization header (401, counted under
//     "files.download"). Faults.CorruptContent makes it serve altered
//     bytes for chosen items while their quickXorHash stays true.
//
//   - Sharing link: a drive item's link permission. Generated shared
//     items have an organization view link; POST .../createLink (restore
//     app) makes one of a type (view, edit) and scope, or answers 200
//     with the existing link of that type and scope. Permissions list
//     both.
//
//   - Site permission: an application's permission on a site
//     (/sites/{id}/permissions; Sites.FullControl.All to read or write;
//     the list leaves the roles out, GET by id has them). Every site has
//     one or two. A library's root lists the site's groups (Owners,
//     Members, Visitors, as grantedToV2.siteGroup) and the people given
//     access to the library (a generated member of the site's group,
//     or one invited). DumpSite gives a site's libraries, lists, pages
//     and permissions by name; delete-site-content empties a site.
//
//   - Site page: a modern page of a site (/sites/{id}/pages, the
//     graph.sitePage cast, a page, its canvasLayout and webParts): a home
//     page and a few articles and news posts per site, whose canvas
//     ($expand=canvasLayout) is sections of columns of text web parts.
//
//   - Endpoint class: the counters' grouping of routes ("mail.delta",
//     "mail.mime", "identity", ...); see Counters.
//
//   - Upload session: a pre-authenticated URL under /_upload/ taking
//     ordered chunks (Content-Range); drive chunks must be multiples of
//     320 KiB, attachment chunks at most 4 MiB. GET on it answers its
//     expirationDateTime and nextExpectedRanges; it expires after a day.
//     A drive upload honours @microsoft.graph.conflictBehavior: fail
//     (the default for sessions: 409 nameAlreadyExists), replace (the
//     default for a simple PUT: a new version) or rename ("name 1.ext").
//     An upload over 64 MiB is hashed as it arrives and not kept: when
//     its size and SHA-256 are those of a sparse file the simulator made
//     (AddSparseFile: gigabytes made on demand from a seed, hashes
//     computed in one streamed pass), the new version serves that
//     content; otherwise only its size and hashes remain and a download
//     of it answers 501.
//
//   - Site writes: lists created (generic lists with their columns, or a
//     document library, which shows as a drive), deleted, their items
//     added, changed (PATCH .../fields) and deleted, fields checked
//     against the list's writable columns; pages created with their
//     canvas (a draft), changed, published and deleted; people granted
//     access to a drive item with invite.
//
//   - Teams: a team's record (settings, isArchived), members with their
//     roles, channels (standard, private, shared; $filter on
//     membershipType) with tabs, and their messages with replies,
//     reactions, mentions, importance and file references. Some messages
//     have pasted images: an HTML body whose <img> points at
//     .../messages/{id}/hostedContents/{id}/$value (a real PNG or JPEG),
//     listed under hostedContents. A channel's messages/delta pages
//     through its top-level messages like mail delta; a new reply, an
//     edit or a soft deletion (deletedDateTime set, the body emptied)
//     makes its message change there. The generator adds an archived
//     team whose owner has left.
//
//   - Teams import path: POST .../channels with
//     "@microsoft.graph.channelCreationMode": "migration" creates a
//     channel that takes messages and replies with their createdDateTime
//     (not before the channel's), from (a user of the tenant) and
//     hostedContents (by @microsoft.graph.temporaryId); completeMigration
//     ends it. An application cannot post into any other channel (403).
//     POST /teams with the standard template and
//     "@microsoft.graph.teamCreationMode": "migration" (202, the team in
//     Content-Location) makes a team whose General channel
//     (/teams/{id}/primaryChannel) is in migration mode too;
//     /teams/{id}/completeMigration (refused while a channel is in
//     migration) ends it, after which members can be added (POST
//     .../members, TeamMember.ReadWrite.All) and PATCH /teams/{id} sets
//     the member, messaging, fun and guest settings.
//
//   - Group conversation: a Microsoft 365 group's conversations, each
//     with a thread of posts (some with file attachments), under
//     /groups/{id}/conversations (with their threads and posts) and
//     /groups/{id}/threads, where a thread can be created and replied to
//     (as the group's first owner or member). /groups/{id}/events
//     answers 403 as Graph does an application: group calendars are
//     served to signed-in users only.
//
//   - Teams scenarios: post-, reply-, edit- and delete-channel-messages,
//     delete-channel, delete-team, create-team, post-to-group;
//     DumpChannel, DumpTeam, DumpGroupThreads and Teams give the ground
//     truth.
//
// Served read-only: hosted contents. Not served: a drive or site recycle
// bin (see Drive), hosted contents of replies, replies delta, chats, team
// creation other than in migration mode from the standard template, $filter (but on channels' membershipType),
// $orderby and $search (accepted and ignored).
package tenantsim
