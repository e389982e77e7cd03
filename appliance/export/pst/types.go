package pst

import "time"

// Address is a person's display name and e-mail address.
type Address struct {
	Name    string
	Address string
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name      string // file name
	MIMEType  string
	ContentID string // for inline parts an HTML body refers to
	Inline    bool
	Data      []byte
}

// Message is an e-mail message with the properties Outlook shows and
// searches. Headers are the message's Internet headers as text.
type Message struct {
	Subject     string
	From        Address
	To, Cc, Bcc []Address
	Sent        time.Time // client submit time
	Received    time.Time // delivery time
	MessageID   string
	InReplyTo   string
	References  string // the References header: Message-IDs of the thread
	Priority    int    // -1 low, 0 normal, 1 high importance
	Headers     string
	Body        string // plain text
	HTML        []byte // HTML body, UTF-8
	Attachments []Attachment
	Read        bool
}

// Contact is a contact card.
type Contact struct {
	DisplayName, GivenName, MiddleName, Surname, Nickname string
	Company, Department, JobTitle                         string
	Emails                                                []string
	BusinessPhones, HomePhones                            []string
	MobilePhone                                           string
	BusinessAddress, HomeAddress                          string
	Notes                                                 string
	Birthday                                              time.Time
	Modified                                              time.Time
}

// Appointment is a calendar item.
type Appointment struct {
	Subject    string
	Location   string
	Body       string
	Start, End time.Time
	AllDay     bool
	Organizer  Address
	Attendees  []Address
	BusyStatus int32 // 0 free, 1 tentative, 2 busy, 3 out of office
	Modified   time.Time
}

// FolderKind says what a folder holds, which sets its container class.
type FolderKind int

// Folder kinds.
const (
	MailFolder FolderKind = iota
	ContactFolder
	CalendarFolder
)

func (k FolderKind) class() string {
	switch k {
	case ContactFolder:
		return "IPF.Contact"
	case CalendarFolder:
		return "IPF.Appointment"
	}
	return "IPF.Note"
}

// Folder names a folder of the file being written.
type Folder uint32
