package tenantsim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"strings"
	"time"
)

// genEpoch is the instant generated content starts from. Generation never
// reads the clock, so a seed always yields the same bytes.
var genEpoch = time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)

var (
	givenNames = []string{"Anna", "José", "Zoë", "Łukasz", "Søren", "Amélie", "Jürgen", "Aiko", "Nguyễn", "Olivia", "Björn", "Chloé", "Ingrid", "Mateo", "Siobhán", "Ömer", "Priya", "Dmitri", "Fatima", "Kenji"}
	surnames   = []string{"Müller", "García", "Kowalski", "Ærøe", "Dubois", "Østergaard", "Yamada", "Smith", "Çelik", "O'Brien", "Novák", "Rossi", "Lindqvist", "Fernández", "Papadopoulos", "Schröder", "Tanaka", "Walker", "Żuk", "Haddad"}
	jobs       = []string{"Accountant", "Sales Manager", "Engineer", "Legal Counsel", "Office Manager", "Consultant", "HR Partner", "Designer"}
	depts      = []string{"Finance", "Sales", "Engineering", "Legal", "Operations", "People"}
	subjects   = []string{
		"Quarterly review %d", "Réunion budget Q%d", "Angebot für Kunde %d", "Сводка проекта %d",
		"会議のお知らせ %d", "Invoice #%d", "Re: Lieferung Nr. %d – Verzögerung", "Fwd: Reisekosten %d",
		"Signed contract %d ✓", "Entwurf: Präsentation %d", "Überprüfung der Zahlen %d", "Lunch on %d? 🍕",
	}
	phrases = []string{
		"Please find the figures attached.", "Können wir das bis Freitag klären?", "Merci pour votre retour rapide.",
		"The contract has been countersigned by both parties.", "Der Termin wurde auf nächste Woche verschoben.",
		"Let me know if anything is missing.", "Las cifras del tercer trimestre están listas.", "Vänliga hälsningar från Malmö.",
		"I have updated the spreadsheet with the latest numbers.", "ご確認のほどよろしくお願いいたします。",
	}
	folderNames  = []string{"Projekte", "Clients – Ünited", "Travel ✈", "Receipts", "Équipe", "Newsletters", "Board", "Payroll 2024", "Ausschreibungen", "Personal"}
	attachKinds  = []struct{ ext, ct string }{{"pdf", "application/pdf"}, {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}, {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}, {"png", "image/png"}, {"jpg", "image/jpeg"}, {"txt", "text/plain"}, {"csv", "text/csv"}, {"zip", "application/zip"}}
	attachStems  = []string{"Vertrag", "Rechnung", "Angebot", "Präsentation", "report", "scan", "Übersicht", "photo", "données", "budget"}
	externalDoms = []string{"fabrikam.example", "northwind.example", "tailspin.example"}
)

// Folder names the generator always creates, so scenarios and tests can
// name them.
const (
	SignedContractsFolder = "Signed Contracts"
	signedYearFolder      = "2025"
)

// shortHash is a stable 16-hex-digit digest of s and n.
func shortHash(s string, n int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s\x00%d", s, n))
	return hex.EncodeToString(h[:8])
}

// guid derives a GUID-shaped id from parts.
func guid(parts ...any) string {
	h := sha256.Sum256(fmt.Append(nil, parts...))
	h[6] = h[6]&0x0f | 0x40
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// itemID derives an Exchange-looking id (opaque, URL-safe).
func itemID(prefix string, parts ...any) string {
	h := sha256.Sum256(fmt.Append(nil, parts...))
	return prefix + hex.EncodeToString(h[:18])
}

func seedOf(parts ...any) uint64 {
	h := sha256.Sum256(fmt.Append(nil, parts...))
	return binary.LittleEndian.Uint64(h[:8])
}

const tenantDomain = "contoso-sim.onmicrosoft.com"

// generate builds the directory and every mailbox. It must only be called
// from New.
func (s *Sim) generate() {
	cfg := s.cfg
	s.pool = make([]*attachment, 6)
	for i := range s.pool {
		r := rand.New(rand.NewPCG(uint64(cfg.Seed), 1000+uint64(i)))
		k := attachKinds[i%len(attachKinds)]
		size := 20_000 + r.IntN(200_000)
		if i == len(s.pool)-1 {
			size = cfg.Profile.LargeAttachmentBytes/2 + r.IntN(cfg.Profile.LargeAttachmentBytes/2+1)
		}
		s.pool[i] = &attachment{
			name:        fmt.Sprintf("Richtlinie – %s %d.%s", attachStems[i%len(attachStems)], 2025, k.ext),
			contentType: k.ct, size: size, seed: seedOf(cfg.Seed, "pool", i),
		}
	}
	deleted := max(1, cfg.Users/10)
	for i := range cfg.Users + deleted {
		r := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(i)+1))
		g, sn := givenNames[(i+int(cfg.Seed))%len(givenNames)], surnames[r.IntN(len(surnames))]
		alias := fmt.Sprintf("%s.%s%d", asciiFold(g), asciiFold(sn), i)
		u := &user{
			id:          guid(cfg.Seed, "user", i),
			upn:         strings.ToLower(alias) + "@" + tenantDomain,
			displayName: g + " " + sn, givenName: g, surname: sn,
			jobTitle: jobs[r.IntN(len(jobs))], department: depts[r.IntN(len(depts))],
			office: fmt.Sprintf("Building %d", 1+r.IntN(4)), lang: []string{"en-US", "de-DE", "fr-FR", "ja-JP"}[r.IntN(4)],
			enabled: true, licensed: true,
			colls: map[string]*collection{}, wellKnown: map[string]*collection{}, items: map[string]*item{},
		}
		u.mail = u.upn
		switch {
		case i >= cfg.Users:
			u.deleted, u.deletedAt = true, genEpoch.Add(-72*time.Hour)
		case i%10 == 3:
			u.enabled = false
		case i%10 == 6:
			u.licensed = false
		}
		s.users = append(s.users, u)
		s.byID[u.id] = u
		s.byID[u.upn] = u
	}
	for i, u := range s.users {
		if u.licensed {
			s.generateMailbox(u, rand.New(rand.NewPCG(uint64(cfg.Seed), 10_000+uint64(i))))
		}
	}
	s.generateWorkloads()
	s.generateAdditions()
}

// asciiFold drops diacritics crudely for mail aliases.
func asciiFold(s string) string {
	repl := strings.NewReplacer("é", "e", "ë", "e", "Ł", "L", "ł", "l", "ø", "o", "Ø", "O", "ü", "u", "Ü", "U", "ö", "o", "Ö", "O", "ä", "a", "Æ", "Ae", "æ", "ae", "ç", "c", "Ç", "C", "á", "a", "ễ", "e", "ñ", "n", "Ż", "Z", "'", "", "í", "i", "ř", "r")
	return repl.Replace(s)
}

func (s *Sim) generateMailbox(u *user, r *rand.Rand) {
	p := s.cfg.Profile
	newColl := func(kind itemKind, parent *collection, name, wk string) *collection {
		c := &collection{id: itemID("AAMkF", s.cfg.Seed, u.id, kind, name, len(u.colls)), name: name, wellKnown: wk, kind: kind}
		if parent != nil {
			c.parentID = parent.id
		}
		s.addCollection(u, c)
		if wk != "" {
			u.wellKnown[wk] = c
		}
		return c
	}
	u.mailRoot = newColl(kindMessage, nil, "Top of Information Store", "msgfolderroot")
	u.folderLog = &collection{id: itemID("AAMkFL", s.cfg.Seed, u.id), kind: kindMessage, user: u}
	inbox := newColl(kindMessage, u.mailRoot, "Inbox", "inbox")
	sent := newColl(kindMessage, u.mailRoot, "Sent Items", "sentitems")
	newColl(kindMessage, u.mailRoot, "Drafts", "drafts")
	newColl(kindMessage, u.mailRoot, "Deleted Items", "deleteditems")
	archive := newColl(kindMessage, u.mailRoot, "Archive", "archive")
	newColl(kindMessage, u.mailRoot, "Junk Email", "junkemail")
	signed := newColl(kindMessage, inbox, SignedContractsFolder, "")
	signedYear := newColl(kindMessage, signed, signedYearFolder, "")
	type slot struct {
		c     *collection
		depth int
	}
	parents := []slot{{inbox, 1}, {archive, 1}}
	targets := []*collection{inbox, inbox, inbox, inbox, sent, sent, archive, signed, signedYear}
	for i := range p.ExtraFolders {
		par := parents[r.IntN(len(parents))]
		c := newColl(kindMessage, par.c, folderNames[(i+r.IntN(3))%len(folderNames)]+fmt.Sprint(" ", i+1), "")
		if par.depth+1 < p.FolderDepth+1 {
			parents = append(parents, slot{c, par.depth + 1})
		}
		targets = append(targets, c)
	}
	for n := range p.MessagesPerUser {
		c := targets[r.IntN(len(targets))]
		if n < 2 {
			c = signed // the scenario folder is never empty
		}
		s.addItem(c, s.newMessageItem(u, c == sent, r, fmt.Sprint("gen", n)))
	}

	contacts := newColl(kindContact, nil, "Contacts", "contacts")
	u.contactsRoot = contacts
	kunden := newColl(kindContact, contacts, "Kunden – Ü", "")
	u.contactFolderIDs = []string{kunden.id}
	for n := range p.ContactsPerUser {
		c := contacts
		if n%3 == 2 {
			c = kunden
		}
		s.addItem(c, s.newContactItem(u, r, fmt.Sprint("gen", n)))
	}

	cal := newColl(kindEvent, nil, "Calendar", "calendar")
	u.calendar = cal
	team := newColl(kindEvent, nil, "Team Urlaub ☀", "")
	u.calendarIDs = []string{cal.id, team.id}
	for n := range p.EventsPerUser {
		c := cal
		if n%5 == 4 {
			c = team
		}
		s.addItem(c, s.newEventItem(u, r, n%5 == 1, fmt.Sprint("gen", n)))
	}
}

func (s *Sim) otherAddress(r *rand.Rand, not *user) mail.Address {
	if r.IntN(3) > 0 {
		for range 4 {
			o := s.users[r.IntN(len(s.users))]
			if o != not && !o.deleted {
				return mail.Address{Name: o.displayName, Address: o.mail}
			}
		}
	}
	g, sn := givenNames[r.IntN(len(givenNames))], surnames[r.IntN(len(surnames))]
	return mail.Address{Name: g + " " + sn, Address: strings.ToLower(asciiFold(g)) + "@" + externalDoms[r.IntN(len(externalDoms))]}
}

func pickSize(r *rand.Rand, large int) int {
	switch x := r.Float64(); {
	case x < 0.7:
		return 2_000 + r.IntN(58_000)
	case x < 0.95:
		return min(60_000+r.IntN(340_000), large)
	default:
		return large/4 + r.IntN(large-large/4+1)
	}
}

func bodyText(r *rand.Rand) string {
	target := 200 + r.IntN(1800)
	if x := r.Float64(); x > 0.95 {
		target = 12_000 + r.IntN(48_000)
	} else if x > 0.7 {
		target = 2_000 + r.IntN(10_000)
	}
	var b strings.Builder
	for b.Len() < target {
		b.WriteString(phrases[r.IntN(len(phrases))])
		if r.IntN(4) == 0 {
			b.WriteString("\n\n")
		} else {
			b.WriteString(" ")
		}
	}
	return b.String()
}

// newMessageItem makes one mail for u from r; key makes its ids unique
// within the mailbox.
func (s *Sim) newMessageItem(u *user, sent bool, r *rand.Rand, key string) *item {
	id := itemID("AAMkAGI", s.cfg.Seed, u.id, "msg", key)
	me := mail.Address{Name: u.displayName, Address: u.mail}
	m := &message{
		subject:    fmt.Sprintf(subjects[r.IntN(len(subjects))], 1+r.IntN(999)),
		from:       s.otherAddress(r, u),
		to:         []mail.Address{me},
		date:       genEpoch.Add(time.Duration(r.IntN(300*24*60)) * time.Minute),
		messageID:  "<" + shortHash(id, 1) + "@" + tenantDomain + ">",
		body:       bodyText(r),
		importance: "normal",
		isRead:     r.IntN(4) > 0,
	}
	if r.IntN(10) == 0 {
		m.importance = "high"
	}
	if sent {
		m.from, m.to = me, []mail.Address{s.otherAddress(r, u)}
	}
	if r.IntN(4) == 0 {
		m.cc = []mail.Address{s.otherAddress(r, u)}
	}
	if r.Float64() < s.cfg.Profile.AttachmentRatio {
		for n := range 1 + r.IntN(3) {
			var a attachment
			if r.IntN(5) < 2 {
				a = *s.pool[r.IntN(len(s.pool))]
			} else {
				k := attachKinds[r.IntN(len(attachKinds))]
				a = attachment{
					name:        fmt.Sprintf("%s_%d.%s", attachStems[r.IntN(len(attachStems))], 1+r.IntN(500), k.ext),
					contentType: k.ct, size: pickSize(r, s.cfg.Profile.LargeAttachmentBytes),
					seed: seedOf(id, n),
				}
				a.inline = strings.HasPrefix(k.ct, "image/") && r.IntN(2) == 0
			}
			a.id = itemID("AAMkAtt", id, n)
			m.attachments = append(m.attachments, &a)
		}
	}
	return &item{id: id, kind: kindMessage, msg: m, created: m.date, modified: m.date}
}

func (s *Sim) newContactItem(u *user, r *rand.Rand, key string) *item {
	id := itemID("AAMkCon", s.cfg.Seed, u.id, "contact", key)
	a := s.otherAddress(r, u)
	given, sur, _ := strings.Cut(a.Name, " ")
	when := genEpoch.Add(time.Duration(r.IntN(200*24)) * time.Hour)
	return &item{id: id, kind: kindContact, created: when, modified: when, props: map[string]any{
		"displayName":    a.Name,
		"givenName":      given,
		"surname":        sur,
		"emailAddresses": []any{map[string]any{"name": a.Name, "address": a.Address}},
		"businessPhones": []any{fmt.Sprintf("+49 30 %07d", r.IntN(10_000_000))},
		"mobilePhone":    fmt.Sprintf("+33 6 %08d", r.IntN(100_000_000)),
		"companyName":    []string{"Fabrikam GmbH", "Northwind Société", "Tailspin 株式会社"}[r.IntN(3)],
		"jobTitle":       jobs[r.IntN(len(jobs))],
		"personalNotes":  phrases[r.IntN(len(phrases))],
		"categories":     []any{},
	}}
}

func (s *Sim) newEventItem(u *user, r *rand.Rand, recurring bool, key string) *item {
	id := itemID("AAMkEvt", s.cfg.Seed, u.id, "event", key)
	start := genEpoch.Add(time.Duration(r.IntN(300*24)) * time.Hour).Truncate(30 * time.Minute)
	end := start.Add(time.Duration(1+r.IntN(4)) * 30 * time.Minute)
	var attendees []any
	for range r.IntN(4) {
		a := s.otherAddress(r, u)
		attendees = append(attendees, map[string]any{
			"type":         []string{"required", "optional"}[r.IntN(2)],
			"status":       map[string]any{"response": []string{"none", "accepted", "tentativelyAccepted", "declined"}[r.IntN(4)], "time": "0001-01-01T00:00:00Z"},
			"emailAddress": map[string]any{"name": a.Name, "address": a.Address},
		})
	}
	props := map[string]any{
		"subject":   fmt.Sprintf([]string{"Jour fixe %d", "Kundentermin %d", "1:1 – Überblick %d", "Design review %d", "Déjeuner d'équipe %d"}[r.IntN(5)], 1+r.IntN(99)),
		"body":      map[string]any{"contentType": "text", "content": phrases[r.IntN(len(phrases))]},
		"start":     map[string]any{"dateTime": start.Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
		"end":       map[string]any{"dateTime": end.Format("2006-01-02T15:04:05.0000000"), "timeZone": "UTC"},
		"location":  map[string]any{"displayName": []string{"Raum Zürich", "Salle Rhône", "Teams", "会議室 3"}[r.IntN(4)]},
		"attendees": attendees,
		"organizer": map[string]any{"emailAddress": map[string]any{"name": u.displayName, "address": u.mail}},
		"isAllDay":  false,
		"showAs":    "busy",
		"type":      "singleInstance",
		"iCalUId":   "040000008200E00074C5B7101A82E008" + shortHash(id, 2),
	}
	if attendees == nil {
		props["attendees"] = []any{}
	}
	if recurring {
		props["type"] = "seriesMaster"
		props["recurrence"] = map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []any{strings.ToLower(start.Weekday().String())}, "firstDayOfWeek": "monday"},
			"range":   map[string]any{"type": "endDate", "startDate": start.Format(time.DateOnly), "endDate": start.AddDate(0, 3, 0).Format(time.DateOnly), "recurrenceTimeZone": "UTC"},
		}
	}
	return &item{id: id, kind: kindEvent, props: props, created: start.Add(-240 * time.Hour), modified: start.Add(-240 * time.Hour)}
}
