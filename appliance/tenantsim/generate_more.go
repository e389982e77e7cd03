package tenantsim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// generateAdditions makes what the tenant gained after its first
// generator: shared mailboxes, site pages, channel messages with hosted
// content, channel change logs, group conversations and nested contact
// folders, and busy channels when the profile asks for them. It runs
// after everything else and draws
// from its own random streams (derived from the seed and a label), so the
// users, ids, MIME and order generated before it do not depend on it.
func (s *Sim) generateAdditions() {
	s.generateSharedMailboxes()
	s.generateSitePages()
	s.generateTeamsAdditions()
	s.generateContactChildFolders()
	s.generateTeamsExtras()
	s.generateGroupExtras()
	s.generateSitePermissions()
	s.generateBusyChannels()
}

// ContactChildFolder is the name of the contact folder the generator
// nests, in some mailboxes, under the first contact folder.
const ContactChildFolder = "Lieferanten – Ø"

// contactChildFolderContacts is how many contacts a nested contact folder
// holds.
const contactChildFolderContacts = 3

// generateContactChildFolders gives every other mailbox (by account
// order, the first one included) a contact folder nested under its first
// contact folder, with a few contacts. It runs last, so the sequence
// numbers of everything generated before it stay as they were.
func (s *Sim) generateContactChildFolders() {
	for i, u := range s.users {
		if i%2 != 0 || u.contactsRoot == nil || len(u.contactFolderIDs) == 0 {
			continue
		}
		parent := u.colls[u.contactFolderIDs[0]]
		r := rand.New(rand.NewPCG(seedOf(s.cfg.Seed, "contact-child-folders"), uint64(i)))
		c := &collection{id: itemID("AAMkF", s.cfg.Seed, u.id, "contact-child-folder", 0), parentID: parent.id, name: ContactChildFolder, kind: kindContact}
		s.addCollection(u, c)
		for n := range contactChildFolderContacts {
			s.addItem(c, s.newContactItem(u, r, fmt.Sprint("child", n)))
		}
	}
}

// sharedMailboxNames are the aliases of generated shared mailboxes, in
// the order they are created.
var sharedMailboxNames = []struct{ alias, name string }{
	{"info", "Info – Contoso"}, {"support", "Support"}, {"buchhaltung", "Buchhaltung"},
	{"empfang", "Empfang / Réception"}, {"bewerbungen", "Bewerbungen"}, {"ventes", "Ventes"},
}

// generateSharedMailboxes adds one shared mailbox per ten users (at least
// one): unlicensed accounts with sign-in blocked that have a mailbox with
// mail, contacts and calendars, and no OneDrive. They come after every
// other account in listing order.
func (s *Sim) generateSharedMailboxes() {
	n := max(1, s.cfg.Users/10)
	for i := range n {
		sm := sharedMailboxNames[i%len(sharedMailboxNames)]
		alias := sm.alias
		if i >= len(sharedMailboxNames) {
			alias = fmt.Sprint(alias, i/len(sharedMailboxNames)+1)
		}
		u := &user{
			id:          guid(s.cfg.Seed, "shared-mailbox", i),
			upn:         alias + "@" + tenantDomain,
			displayName: sm.name, givenName: "", surname: "",
			office: "", lang: "de-DE", department: "",
			enabled: false, licensed: false, shared: true,
			colls: map[string]*collection{}, wellKnown: map[string]*collection{}, items: map[string]*item{},
		}
		u.mail = u.upn
		s.users = append(s.users, u)
		s.byID[u.id] = u
		s.byID[strings.ToLower(u.upn)] = u
		s.generateMailbox(u, rand.New(rand.NewPCG(seedOf(s.cfg.Seed, "shared-mailbox-content"), uint64(i))))
	}
}
