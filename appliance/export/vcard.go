package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// graphContact is the part of a Microsoft Graph v1.0 contact that the
// vCard carries.
type graphContact struct {
	ID                   string        `json:"id"`
	DisplayName          string        `json:"displayName"`
	GivenName            string        `json:"givenName"`
	Surname              string        `json:"surname"`
	MiddleName           string        `json:"middleName"`
	NickName             string        `json:"nickName"`
	Title                string        `json:"title"`
	Generation           string        `json:"generation"`
	EmailAddresses       []graphEmail  `json:"emailAddresses"`
	BusinessPhones       []string      `json:"businessPhones"`
	HomePhones           []string      `json:"homePhones"`
	MobilePhone          string        `json:"mobilePhone"`
	CompanyName          string        `json:"companyName"`
	JobTitle             string        `json:"jobTitle"`
	Department           string        `json:"department"`
	BusinessAddress      *graphAddress `json:"businessAddress"`
	HomeAddress          *graphAddress `json:"homeAddress"`
	OtherAddress         *graphAddress `json:"otherAddress"`
	BusinessHomePage     string        `json:"businessHomePage"`
	Birthday             string        `json:"birthday"`
	PersonalNotes        string        `json:"personalNotes"`
	Categories           []string      `json:"categories"`
	LastModifiedDateTime string        `json:"lastModifiedDateTime"`
}

type graphEmail struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

type graphAddress struct {
	Street          string `json:"street"`
	City            string `json:"city"`
	State           string `json:"state"`
	PostalCode      string `json:"postalCode"`
	CountryOrRegion string `json:"countryOrRegion"`
}

func (a *graphAddress) empty() bool {
	return a == nil || a.Street == "" && a.City == "" && a.State == "" && a.PostalCode == "" && a.CountryOrRegion == ""
}

// ContactToVCard converts one Graph contact (JSON) into a vCard 4.0 with
// CRLF line endings.
func ContactToVCard(graphJSON []byte) ([]byte, error) {
	var c graphContact
	if err := json.Unmarshal(graphJSON, &c); err != nil {
		return nil, fmt.Errorf("export: contact: %w", err)
	}
	var out contentLines
	out.add("BEGIN", "", "VCARD")
	out.add("VERSION", "", "4.0")
	out.add("PRODID", "", "-//Strongroom//EN")
	out.add("FN", "", escapeVText(formattedName(&c)))
	if c.Surname != "" || c.GivenName != "" || c.MiddleName != "" || c.Title != "" || c.Generation != "" {
		out.add("N", "", joinComponents(c.Surname, c.GivenName, c.MiddleName, c.Title, c.Generation))
	}
	if c.NickName != "" {
		out.add("NICKNAME", "", escapeVText(c.NickName))
	}
	pref := ";PREF=1"
	for _, e := range c.EmailAddresses {
		addr := strings.TrimSpace(e.Address)
		if addr == "" {
			continue
		}
		out.add("EMAIL", pref, escapeVText(addr))
		pref = ""
	}
	phone := func(types, number string) {
		if number = strings.TrimSpace(number); number != "" {
			out.add("TEL", ";TYPE="+types, escapeVText(number))
		}
	}
	for _, p := range c.BusinessPhones {
		phone(`"work,voice"`, p)
	}
	for _, p := range c.HomePhones {
		phone(`"home,voice"`, p)
	}
	phone(`"cell,voice"`, c.MobilePhone)
	if c.CompanyName != "" || c.Department != "" {
		if c.Department != "" {
			out.add("ORG", "", joinComponents(c.CompanyName, c.Department))
		} else {
			out.add("ORG", "", joinComponents(c.CompanyName))
		}
	}
	if c.JobTitle != "" {
		out.add("TITLE", "", escapeVText(c.JobTitle))
	}
	for _, a := range []struct {
		typ  string
		addr *graphAddress
	}{{"work", c.BusinessAddress}, {"home", c.HomeAddress}, {"", c.OtherAddress}} {
		if a.addr.empty() {
			continue
		}
		params := ""
		if a.typ != "" {
			params = ";TYPE=" + a.typ
		}
		out.add("ADR", params, joinComponents("", "", a.addr.Street, a.addr.City, a.addr.State, a.addr.PostalCode, a.addr.CountryOrRegion))
	}
	if c.BusinessHomePage != "" {
		out.add("URL", "", uriValue(c.BusinessHomePage))
	}
	if bday := vcardBirthday(c.Birthday); bday != "" {
		out.add("BDAY", "", bday)
	}
	if len(c.Categories) > 0 {
		cats := make([]string, 0, len(c.Categories))
		for _, cat := range c.Categories {
			if cat != "" {
				cats = append(cats, escapeVText(cat))
			}
		}
		if len(cats) > 0 {
			out.add("CATEGORIES", "", strings.Join(cats, ","))
		}
	}
	if c.PersonalNotes != "" {
		out.add("NOTE", "", escapeVText(c.PersonalNotes))
	}
	if t, ok := parseGraphInstant(c.LastModifiedDateTime); ok {
		out.add("REV", "", t.UTC().Format("20060102T150405Z"))
	}
	if c.ID != "" {
		// Graph ids are not URIs, so the UID is reset to free-form text
		// as RFC 6350 6.7.6 allows.
		out.add("UID", ";VALUE=text", escapeVText(c.ID))
	}
	out.add("END", "", "VCARD")
	return out.bytes(), nil
}

// WriteVCF writes the contacts as one .vcf file of concatenated vCards.
func WriteVCF(w io.Writer, contacts [][]byte) error {
	for i, c := range contacts {
		card, err := ContactToVCard(c)
		if err != nil {
			return fmt.Errorf("contact %d: %w", i, err)
		}
		if _, err := w.Write(card); err != nil {
			return err
		}
	}
	return nil
}

// formattedName picks the FN, which every vCard must have.
func formattedName(c *graphContact) string {
	if s := strings.TrimSpace(c.DisplayName); s != "" {
		return s
	}
	var parts []string
	for _, p := range []string{c.GivenName, c.MiddleName, c.Surname} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) > 0 {
		return strings.Join(parts, " ")
	}
	if s := strings.TrimSpace(c.CompanyName); s != "" {
		return s
	}
	for _, e := range c.EmailAddresses {
		if s := strings.TrimSpace(e.Name); s != "" {
			return s
		}
		if s := strings.TrimSpace(e.Address); s != "" {
			return s
		}
	}
	return "Unnamed contact"
}

// vcardBirthday turns Graph's birthday (a date-time whose date part is the
// birthday) into a vCard date. Outlook stores a birthday without a year as
// year 1604, which becomes the vCard 4.0 form --MMDD.
func vcardBirthday(s string) string {
	if len(s) < 10 {
		return ""
	}
	d, err := time.Parse("2006-01-02", s[:10])
	if err != nil || d.Year() <= 1 {
		return ""
	}
	if d.Year() == 1604 {
		return d.Format("--0102")
	}
	return d.Format("20060102")
}

// parseGraphInstant parses Graph's DateTimeOffset values (RFC 3339).
func parseGraphInstant(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}, false
	}
	return t, true
}
