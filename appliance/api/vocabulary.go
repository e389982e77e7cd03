package api

// The states of a unit in a run (UnitReport.State).
const (
	UnitBackedUp UnitState = "backed-up" // backed up as of this run (items may have failed)
	UnitFailed   UnitState = "failed"    // could not be backed up: its previous data is carried
	UnitDeparted UnitState = "departed"  // gone from the tenant: its data is kept
	UnitCarried  UnitState = "carried"   // not selected for this run: carried unchanged
	UnitNoData   UnitState = "no-data"   // has nothing to protect (e.g. a user without a mailbox)
)

// The outcomes of a backup run (BackupReport.Result).
const (
	RunSuccess RunResult = "success" // every unit and item backed up
	RunPartial RunResult = "partial" // committed, but some units or items failed
	RunFailed  RunResult = "failed"  // nothing committed
)

// Keys of Entry.Meta that clients read.
const (
	MetaKind     = "kind"     // the item's kind: message, contact, event, file, ...
	MetaWorkload = "workload" // exchange, onedrive, sharepoint
	MetaUser     = "user"     // the unit's name at backup time
	MetaFolder   = "folder"   // display path of the containing folder
	MetaSubject  = "subject"  // subject or display name
	MetaFrom     = "from"     // sender address
	MetaDate     = "date"     // received (mail), start (events), modified (contacts, files)
	MetaVersion  = "version"  // a file version's id
)
