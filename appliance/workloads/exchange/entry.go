package exchange

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/catalog"
	"github.com/strongroom/strongroom/appliance/workloads"
)

// entry is one element of a delta or list response: a message, contact
// or event, or an "@removed" marker. Raw is the element exactly as Graph
// sent it.
type entry struct {
	ID        string          `json:"id"`
	Removed   json.RawMessage `json:"@removed"`
	ChangeKey string          `json:"changeKey"`
	Modified  string          `json:"lastModifiedDateTime"`

	Subject           string      `json:"subject"`
	From              *recipient  `json:"from"`
	To                []recipient `json:"toRecipients"`
	Received          string      `json:"receivedDateTime"`
	InternetMessageID string      `json:"internetMessageId"`
	IsDraft           bool        `json:"isDraft"`

	DisplayName    string         `json:"displayName"`
	EmailAddresses []emailAddress `json:"emailAddresses"`

	Start     *dateTimeTZ `json:"start"`
	Type      string      `json:"type"` // events: singleInstance, seriesMaster, ...
	Organizer *recipient  `json:"organizer"`
	Attendees []recipient `json:"attendees"`

	Raw json.RawMessage `json:"-"`
}

type emailAddress struct {
	Name    string `json:"name"`
	Address string `json:"address"`
}

type recipient struct {
	EmailAddress emailAddress `json:"emailAddress"`
}

type dateTimeTZ struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

func parseEntry(raw json.RawMessage) (entry, error) {
	var e entry
	err := json.Unmarshal(raw, &e)
	e.Raw = raw
	return e, err
}

func (e *entry) removed() bool { return len(e.Removed) > 0 && string(e.Removed) != "null" }

// version is what the item's Meta must hold for it to be the same
// version; sameVersion compares.
func (e *entry) sameVersion(meta map[string]string) bool {
	if e.ChangeKey != "" {
		return meta[MetaChangeKey] == e.ChangeKey
	}
	if e.Modified != "" {
		return meta[MetaModified] == utc(e.Modified)
	}
	return false
}

// utc normalizes a Graph timestamp to RFC 3339 in UTC; unparsable values
// are kept as they are.
func utc(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339)
}

// eventTime converts an event's dateTimeTimeZone to RFC 3339 UTC.
func eventTime(d *dateTimeTZ) string {
	if d == nil || d.DateTime == "" {
		return ""
	}
	loc := time.UTC
	if d.TimeZone != "" && !strings.EqualFold(d.TimeZone, "UTC") {
		if l, err := time.LoadLocation(d.TimeZone); err == nil {
			loc = l
		}
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.9999999", d.DateTime, loc)
	if err != nil {
		return d.DateTime
	}
	return t.UTC().Format(time.RFC3339)
}

func addresses(rs []recipient) string {
	var out []string
	for _, r := range rs {
		if r.EmailAddress.Address != "" {
			out = append(out, r.EmailAddress.Address)
		}
	}
	return strings.Join(out, ",")
}

// itemMeta is the catalog metadata of an entry of a collection.
func itemMeta(u workloads.Unit, c *collection, e *entry) map[string]string {
	m := map[string]string{
		catalog.MetaKind:     c.itemKind,
		catalog.MetaWorkload: "exchange",
		catalog.MetaUserID:   u.ID,
		catalog.MetaUser:     u.Name,
		catalog.MetaFolderID: c.id,
		catalog.MetaFolder:   c.path,
		catalog.MetaItemID:   e.ID,
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set(MetaChangeKey, e.ChangeKey)
	set(MetaModified, utc(e.Modified))
	switch c.itemKind {
	case catalog.KindMessage:
		setHeadline(set, e.Subject, e.From, e.To, utc(e.Received))
		set(catalog.MetaMessageID, e.InternetMessageID)
	case catalog.KindContact:
		set(catalog.MetaSubject, e.DisplayName)
		var mails []string
		for _, a := range e.EmailAddresses {
			mails = append(mails, a.Address)
		}
		set(catalog.MetaTo, strings.Join(mails, ","))
		set(catalog.MetaDate, utc(e.Modified))
	case catalog.KindEvent:
		setHeadline(set, e.Subject, e.Organizer, e.Attendees, eventTime(e.Start))
	}
	return m
}

// setHeadline sets the catalog's headline of a message or an event: its
// subject, who sent or organised it, who it went to and its date.
func setHeadline(set func(k, v string), subject string, from *recipient, to []recipient, date string) {
	set(catalog.MetaSubject, subject)
	if from != nil {
		set(catalog.MetaFrom, from.EmailAddress.Address)
	}
	set(catalog.MetaTo, addresses(to))
	set(catalog.MetaDate, date)
}
