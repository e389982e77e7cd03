package tenantsim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Scenario is a named change to the tenant, as a user, an admin or an
// attacker would make it. Apply runs one; so does POST /_sim/scenario with
// the same JSON.
type Scenario struct {
	// Name is one of ScenarioNames.
	Name string `json:"name"`
	// User is an id or UPN. mail-burst with no User sends to every
	// mailbox.
	User string `json:"user,omitempty"`
	// Folder is a folder path ("Inbox/Signed Contracts") or, when no path
	// matches, the first folder with that display name. large-mail
	// delivers into it (default Inbox), making it below the mailbox's
	// root when no folder matches.
	Folder string `json:"folder,omitempty"`
	// To is the destination folder of move-messages, named like Folder.
	To string `json:"to,omitempty"`
	// Site names the site (name, display name or id) of delete-library
	// and delete-site-content,
	// or of ransomware on a library instead of a user's OneDrive; Folder
	// then names the library (default "Documents"). For
	// post-channel-messages Site names the team (display name or id,
	// default the first team) and Folder the channel (default the first).
	Site string `json:"site,omitempty"`
	// Count is how many mails mail-burst sends per mailbox, or how many
	// messages delete-messages, move-messages and modify-messages touch
	// (the first ones of Folder, default Inbox), or how many files
	// delete-files removes from the OneDrive folder Folder (default 1).
	Count int `json:"count,omitempty"`
}

// ScenarioNames lists the scenarios Apply knows.
var ScenarioNames = append([]string{"delete-folder", "mail-burst", "large-mail", "deprovision-user", "delete-messages", "move-messages", "modify-messages", "ransomware", "delete-files", "delete-library", "delete-site-content", "expire-delta-tokens", "expire-tokens", "post-channel-messages"}, teamsScenarios...)

// ScenarioResult says what a scenario changed.
type ScenarioResult struct {
	Scenario       string   `json:"scenario"`
	Users          []string `json:"users,omitempty"`
	FoldersDeleted int      `json:"folders_deleted,omitempty"`
	ItemsCreated   int      `json:"items_created,omitempty"`
	ItemsDeleted   int      `json:"items_deleted,omitempty"`
	ItemsMoved     int      `json:"items_moved,omitempty"`
	ItemsModified  int      `json:"items_modified,omitempty"`
	// IDs are the ids of the items created, deleted or moved.
	IDs []string `json:"ids,omitempty"`
	// Before is the tenant's change sequence number just before the
	// scenario changed anything: DumpDriveAt with it gives a drive's
	// ground truth from before, e.g. before ransomware.
	Before uint64 `json:"before,omitempty"`
	// Resync, for expire-delta-tokens, is the 410 error code each
	// drive's voided delta tokens now get, by drive id:
	// resyncChangesApplyDifferences or resyncChangesUploadDifferences.
	Resync map[string]string `json:"resync,omitempty"`
}

// ErrUnknownScenario is returned for a scenario name Apply does not know.
var ErrUnknownScenario = errors.New("unknown scenario")

// Apply runs sc against the tenant.
func (s *Sim) Apply(sc Scenario) (ScenarioResult, error) {
	res := ScenarioResult{Scenario: sc.Name}
	if !slices.Contains(ScenarioNames, sc.Name) {
		return res, fmt.Errorf("%w %q: want one of %s", ErrUnknownScenario, sc.Name, strings.Join(ScenarioNames, ", "))
	}
	switch sc.Name {
	case "expire-tokens":
		s.ExpireTokens()
		return res, nil
	case "expire-delta-tokens":
		s.ExpireDeltaTokens()
		res.Resync = s.deltaResyncCodes()
		return res, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	res.Before = s.seq
	if sc.Name == "delete-library" {
		return res, s.deleteLibrary(sc, &res)
	}
	if sc.Name == "delete-site-content" {
		return res, s.deleteSiteContent(sc, &res)
	}
	if sc.Name == "ransomware" && sc.Site != "" {
		d, err := s.scenarioLibrary(sc)
		if err == nil {
			s.ransomware(d, &res)
		}
		return res, err
	}
	if sc.Name == "post-channel-messages" {
		return res, s.postToTeam(sc, &res)
	}
	if slices.Contains(teamsScenarios, sc.Name) {
		return res, s.applyTeams(sc, &res)
	}
	users, err := s.scenarioUsers(sc)
	if err != nil {
		return res, err
	}
	count := max(sc.Count, 1)
	for _, u := range users {
		res.Users = append(res.Users, u.upn)
		if err := s.applyToUser(sc, u, count, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// deltaResyncCodes returns, by drive id, the 410 error code each drive
// that is not deleted answers a voided delta token with.
func (s *Sim) deltaResyncCodes() map[string]string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	codes := map[string]string{}
	for id, d := range s.drives {
		if !d.deleted {
			codes[id] = s.resyncCode(d)
		}
	}
	return codes
}

// postToTeam posts channel messages in the team sc.Site names (the first
// team with channels when it names none). The caller holds s.mu.
func (s *Sim) postToTeam(sc Scenario, res *ScenarioResult) error {
	for _, g := range s.groups {
		if len(g.channels) > 0 && (sc.Site == "" || strings.EqualFold(g.displayName, sc.Site) || g.id == sc.Site) {
			return s.postChannelMessages(g, sc.Folder, max(sc.Count, 1), res)
		}
	}
	return fmt.Errorf("scenario post-channel-messages: no team %q", sc.Site)
}

// scenarioUsers returns the users a scenario changes: sc.User, or every
// user with a mailbox for a mail-burst that names none. A user without a
// mailbox is refused, except to be deprovisioned. The caller holds s.mu.
func (s *Sim) scenarioUsers(sc Scenario) ([]*user, error) {
	if sc.User == "" && sc.Name == "mail-burst" {
		var users []*user
		for _, u := range s.users {
			if u.hasMailbox() {
				users = append(users, u)
			}
		}
		return users, nil
	}
	u, gerr := s.lookupUser(sc.User)
	if gerr != nil {
		return nil, fmt.Errorf("scenario %s: user %q not found", sc.Name, sc.User)
	}
	if !u.hasMailbox() && sc.Name != "deprovision-user" {
		return nil, fmt.Errorf("scenario %s: user %s has no mailbox", sc.Name, u.upn)
	}
	return []*user{u}, nil
}

// applyToUser runs a per-user scenario against user u; count is how many
// items it touches. The caller holds s.mu.
func (s *Sim) applyToUser(sc Scenario, u *user, count int, res *ScenarioResult) error {
	switch sc.Name {
	case "delete-folder":
		return s.deleteMailFolder(u, sc.Folder, res)
	case "mail-burst":
		s.mailBurst(u, count, res)
	case "large-mail":
		return s.largeMail(u, sc.Folder, res)
	case "ransomware":
		if u.drive == nil {
			return fmt.Errorf("scenario ransomware: user %s has no OneDrive", u.upn)
		}
		s.ransomware(u.drive, res)
	case "delete-files":
		if u.drive == nil {
			return fmt.Errorf("scenario delete-files: user %s has no OneDrive", u.upn)
		}
		s.deleteFiles(u.drive, sc.Folder, count, res)
	case "deprovision-user":
		u.deleted, u.deletedAt = true, s.logicalNow(s.nextSeq())
	case "modify-messages":
		return s.modifyMessages(u, sc.Folder, count, res)
	case "delete-messages", "move-messages":
		return s.deleteOrMoveMessages(sc, u, count, res)
	default:
		return fmt.Errorf("%w %q: want one of %s", ErrUnknownScenario, sc.Name, strings.Join(ScenarioNames, ", "))
	}
	return nil
}

// deleteMailFolder deletes u's mail folder name (not a well-known one)
// with its subfolders, recording the folders and the messages in them.
func (s *Sim) deleteMailFolder(u *user, name string, res *ScenarioResult) error {
	c := u.findFolder(name)
	if c == nil || c.wellKnown != "" {
		return fmt.Errorf("scenario delete-folder: user %s has no deletable folder %q", u.upn, name)
	}
	for _, cc := range u.mailCollections() {
		if cc == c || strings.HasPrefix(u.folderPath(cc), u.folderPath(c)+"/") {
			res.FoldersDeleted++
			for _, m := range cc.order {
				res.IDs = append(res.IDs, m.id)
			}
		}
	}
	res.ItemsDeleted += s.deleteCollection(c)
	return nil
}

// mailBurst delivers count new unread messages to u's inbox.
func (s *Sim) mailBurst(u *user, count int, res *ScenarioResult) {
	inbox := u.wellKnown["inbox"]
	for range count {
		seq := s.seq + 1
		it := s.newMessageItem(u, false, s.newRand(seq), fmt.Sprint("burst", seq))
		it.created, it.modified = s.logicalNow(seq), s.logicalNow(seq)
		it.msg.date, it.msg.isRead = it.created, false
		s.addItem(inbox, it)
		res.ItemsCreated++
		res.IDs = append(res.IDs, it.id)
	}
}

// modifyMessages changes the first count messages of u's folder (default
// Inbox).
func (s *Sim) modifyMessages(u *user, folder string, count int, res *ScenarioResult) error {
	c := u.findFolder(firstNonEmpty(folder, "Inbox"))
	if c == nil {
		return fmt.Errorf("scenario modify-messages: user %s has no folder %q", u.upn, folder)
	}
	for _, m := range c.order[:min(count, len(c.order))] {
		s.modifyMessage(u.items[m.id])
		res.ItemsModified++
		res.IDs = append(res.IDs, m.id)
	}
	return nil
}

// deleteOrMoveMessages deletes the first count messages of u's folder
// sc.Folder (default Inbox), or for move-messages moves them to sc.To.
func (s *Sim) deleteOrMoveMessages(sc Scenario, u *user, count int, res *ScenarioResult) error {
	from := u.findFolder(firstNonEmpty(sc.Folder, "Inbox"))
	if from == nil {
		return fmt.Errorf("scenario %s: user %s has no folder %q", sc.Name, u.upn, sc.Folder)
	}
	var to *collection
	if sc.Name == "move-messages" {
		if to = u.findFolder(sc.To); to == nil || to == from {
			return fmt.Errorf("scenario move-messages: user %s has no destination folder %q", u.upn, sc.To)
		}
	}
	for n := 0; n < count && len(from.order) > 0; n++ {
		it := u.items[from.order[0].id]
		res.IDs = append(res.IDs, it.id)
		if to != nil {
			s.moveItem(it, to)
			res.ItemsMoved++
		} else {
			s.removeItem(it)
			res.ItemsDeleted++
		}
	}
	return nil
}

// findFolder finds a mail folder by path, else by display name,
// case-insensitively.
func (u *user) findFolder(name string) *collection {
	if name == "" {
		return nil
	}
	all := u.mailCollections()
	for _, c := range all {
		if strings.EqualFold(u.folderPath(c), name) {
			return c
		}
	}
	for _, c := range all {
		if strings.EqualFold(c.name, name) || strings.EqualFold(c.wellKnown, name) {
			return c
		}
	}
	return nil
}

// MailboxDump is the exact current content of a mailbox.
type MailboxDump struct {
	UserID   string        `json:"user_id"`
	UPN      string        `json:"upn"`
	Folders  []FolderDump  `json:"folders"`
	Messages []MessageDump `json:"messages"`
}

// FolderDump is one mail folder of a MailboxDump.
type FolderDump struct {
	ID       string `json:"id"`
	ParentID string `json:"parent_id"`
	Path     string `json:"path"`
}

// MessageDump is one message of a MailboxDump; MIME is exactly what
// GET .../messages/{id}/$value serves (base64 in JSON).
type MessageDump struct {
	ID         string `json:"id"`
	FolderID   string `json:"folder_id"`
	FolderPath string `json:"folder_path"`
	Subject    string `json:"subject"`
	MIME       []byte `json:"mime"`
}

// DumpMailbox returns the mailbox of user (id or UPN), folders
// depth-first and messages in folder order.
func (s *Sim) DumpMailbox(userKey string) (MailboxDump, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, gerr := s.lookupUser(userKey)
	if gerr != nil {
		return MailboxDump{}, fmt.Errorf("dump mailbox: user %q not found", userKey)
	}
	if !u.hasMailbox() {
		return MailboxDump{}, fmt.Errorf("dump mailbox: user %s has no mailbox", u.upn)
	}
	d := MailboxDump{UserID: u.id, UPN: u.upn, Folders: []FolderDump{}, Messages: []MessageDump{}}
	for _, c := range u.mailCollections() {
		if c == u.mailRoot {
			continue
		}
		p := u.folderPath(c)
		d.Folders = append(d.Folders, FolderDump{ID: c.id, ParentID: c.parentID, Path: p})
		for _, m := range c.order {
			it := u.items[m.id]
			d.Messages = append(d.Messages, MessageDump{ID: it.id, FolderID: c.id, FolderPath: p, Subject: it.msg.subject, MIME: it.msg.mimeBytes()})
		}
	}
	return d, nil
}

// UserInfo describes a generated account.
type UserInfo struct {
	ID       string `json:"id"`
	UPN      string `json:"upn"`
	Name     string `json:"display_name"`
	Licensed bool   `json:"licensed"`
	Enabled  bool   `json:"enabled"`
	Deleted  bool   `json:"deleted"`
	// Shared marks a shared mailbox: unlicensed and disabled, yet with a
	// mailbox.
	Shared bool `json:"shared,omitempty"`
}

// Users lists every account, deleted ones included, in generation order
// (shared mailboxes last).
func (s *Sim) Users() []UserInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]UserInfo, len(s.users))
	for i, u := range s.users {
		out[i] = UserInfo{ID: u.id, UPN: u.upn, Name: u.displayName, Licensed: u.licensed, Enabled: u.enabled, Deleted: u.deleted, Shared: u.shared}
	}
	return out
}

// Info is what a client needs to connect, and the accounts.
type Info struct {
	TenantID      string     `json:"tenant_id"`
	GraphBaseURL  string     `json:"graph_base_url"`
	AuthorityHost string     `json:"authority_host"`
	BackupApp     AppInfo    `json:"backup_app"`
	RestoreApp    AppInfo    `json:"restore_app"`
	Users         []UserInfo `json:"users"`
}

// AppInfo is an application's credentials.
type AppInfo struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// Info returns the connection details and the accounts.
func (s *Sim) Info() Info {
	return Info{
		TenantID: s.tenantID, GraphBaseURL: s.baseURL, AuthorityHost: s.authority,
		BackupApp:  AppInfo{s.backup.ClientID, s.backup.ClientSecret},
		RestoreApp: AppInfo{s.restore.ClientID, s.restore.ClientSecret},
		Users:      s.Users(),
	}
}

// deleteLibrary deletes a site's document library, as a site owner
// would; the drive then answers 404 and leaves the site's drive list.
func (s *Sim) deleteLibrary(sc Scenario, res *ScenarioResult) error {
	d, err := s.scenarioLibrary(sc)
	if err != nil {
		return err
	}
	d.deleted = true
	s.nextSeq()
	res.ItemsDeleted = len(d.items) - 1
	res.IDs = []string{d.id}
	return nil
}

// scenarioLibrary is the library sc.Folder (default "Documents") of the
// site sc.Site (name, display name or id). The caller holds s.mu.
func (s *Sim) scenarioLibrary(sc Scenario) (*drive, error) {
	lib := firstNonEmpty(sc.Folder, "Documents")
	for _, st := range s.sites {
		if !strings.EqualFold(st.name, sc.Site) && !strings.EqualFold(st.displayName, sc.Site) && st.id != sc.Site {
			continue
		}
		for _, d := range st.drives {
			if strings.EqualFold(d.name, lib) && !d.deleted {
				return d, nil
			}
		}
		return nil, fmt.Errorf("scenario %s: site %s has no library %q", sc.Name, st.displayName, lib)
	}
	return nil, fmt.Errorf("scenario %s: no site %q", sc.Name, sc.Site)
}

// messageCategories are the categories modify-messages assigns.
var messageCategories = []string{"Wichtig ⚑", "Follow-up", "Kunde – Ü", "Red category"}

// modifyMessage changes a message in place as a user reading and
// triaging it would: it flips isRead and assigns a category (or clears
// them when it has them all). The message keeps its id, folder and MIME;
// its changeKey and lastModifiedDateTime move on and it is logged as
// changed in its folder, so the next delta returns it whole.
func (s *Sim) modifyMessage(it *item) {
	seq := s.seq + 1
	m := it.msg
	m.isRead = !m.isRead
	free := slices.DeleteFunc(slices.Clone(messageCategories), func(c string) bool { return slices.Contains(m.categories, c) })
	if len(free) == 0 {
		m.categories = nil
	} else {
		m.categories = append(slices.Clip(m.categories), free[s.newRand(seq).IntN(len(free))])
	}
	it.version++
	it.modified = s.logicalNow(seq)
	s.logTouch(it.coll, it.id)
}
