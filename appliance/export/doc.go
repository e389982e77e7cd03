// Package export turns backed-up Exchange items into files that standard
// tools open: single messages as EML, folders and mailboxes as mbox (mboxrd)
// or Maildir++, contacts as vCard 4.0 and calendars as iCalendar.
//
// The package has no dependency on the vault or the catalog: callers read
// items from a snapshot and hand their bytes over. Messages are the raw
// RFC 5322 MIME bytes that Graph's $value returns; contacts and events are
// the Microsoft Graph v1.0 JSON representations as the Exchange workload
// stores them.
//
// Formats and choices:
//
//   - EML: the MIME bytes verbatim (WriteEML), so an exported message is
//     byte-identical to the backed-up one.
//   - mbox: the mboxrd variant (MboxWriter). Each message is preceded by a
//     "From sender asctime" line, lines matching ^>*From  get one more '>',
//     CRLF becomes LF and a blank line follows every message. Reading the
//     file back by the mboxrd rules yields the message with LF line endings.
//   - Maildir: MaildirWriter writes each message to tmp/ and moves it into
//     cur/ as "<unix>.<seq>_<random>.strongroom:2,<flags>", with LF line
//     endings as the Maildir convention has it and the file's mtime set to
//     the message date. FolderDir maps an Exchange folder path onto the
//     Maildir++ layout (Inbox is the root; "Inbox/Signed Contracts" becomes
//     ".Inbox.Signed Contracts"; names are stored in modified UTF-7 like
//     Courier and Dovecot do). The writer makes every file through a Dir
//     the caller opened on the export's destination; the agent's refuses
//     to follow any symbolic link below it.
//   - vCard: ContactToVCard writes vCard 4.0 (RFC 6350) with FN, N,
//     NICKNAME, EMAIL, TEL with TYPE, ORG, TITLE, ADR, BDAY, NOTE, REV and
//     UID; WriteVCF concatenates cards.
//   - iCalendar: EventsToICS writes one VCALENDAR (RFC 5545) with a VEVENT
//     per event. Times in UTC are written with a Z suffix; times in another
//     zone keep their wall-clock time with a TZID naming the IANA zone
//     (Windows zone names that Graph uses are mapped) and a VTIMEZONE that
//     lists that zone's actual transitions, from Go's tz database, over the
//     span the events use. Recurrences become RRULEs, a series' deleted
//     occurrences EXDATEs and its exceptions VEVENTs of the series' UID
//     with a RECURRENCE-ID (as a backup recorded them on the master,
//     AnnotationExceptions and AnnotationCancelled). Times in a zone the
//     package cannot identify are written as floating local times.
//
// Content lines of vCards and iCalendar files end in CRLF and are folded at
// 75 octets without splitting UTF-8 sequences.
package export
