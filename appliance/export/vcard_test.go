package export

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-vcard"
)

const fullContact = `{
  "id": "AAMkAGI2THVSAAA=",
  "displayName": "Müller, Anna",
  "givenName": "Anna",
  "surname": "Müller",
  "middleName": "Maria",
  "nickName": "Annie",
  "title": "Dr.",
  "emailAddresses": [
    {"name": "Anna Müller", "address": "anna@contoso.test"},
    {"name": "", "address": "anna.private@example.test"},
    {"name": "blank", "address": ""}
  ],
  "businessPhones": ["+49 30 1234567"],
  "homePhones": ["+49 30 7654321", ""],
  "mobilePhone": "+49 170 1111111",
  "companyName": "Contoso, Ltd.",
  "jobTitle": "Head of Legal",
  "department": "Legal",
  "businessAddress": {"street": "Unter den Linden 1", "city": "Berlin", "state": "", "postalCode": "10117", "countryOrRegion": "Germany"},
  "homeAddress": {"street": "Hauptstraße 5\nHinterhaus", "city": "Potsdam", "postalCode": "14467", "countryOrRegion": "Germany"},
  "otherAddress": {},
  "birthday": "1980-05-17T11:59:00Z",
  "personalNotes": "Met at the fair, 2023; likes \\ backslashes.\r\nSecond line: 日本語 ✓",
  "lastModifiedDateTime": "2024-02-01T10:20:30Z"
}`

func decodeCards(t *testing.T, data []byte) []vcard.Card {
	t.Helper()
	physicalLines(t, data)
	dec := vcard.NewDecoder(bytes.NewReader(data))
	var cards []vcard.Card
	for {
		c, err := dec.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("go-vcard: %v\n%s", err, data)
		}
		cards = append(cards, c)
	}
	return cards
}

func TestContactToVCardFull(t *testing.T) {
	data, err := ContactToVCard([]byte(fullContact))
	if err != nil {
		t.Fatal(err)
	}
	cards := decodeCards(t, data)
	if len(cards) != 1 {
		t.Fatalf("%d cards", len(cards))
	}
	c := cards[0]
	checks := []struct{ field, want string }{
		{vcard.FieldVersion, "4.0"},
		{vcard.FieldFormattedName, "Müller, Anna"},
		{vcard.FieldNickname, "Annie"},
		{vcard.FieldTitle, "Head of Legal"},
		{vcard.FieldBirthday, "19800517"},
		{vcard.FieldNote, "Met at the fair, 2023; likes \\ backslashes.\nSecond line: 日本語 ✓"},
		{vcard.FieldUID, "AAMkAGI2THVSAAA="},
		{vcard.FieldRevision, "20240201T102030Z"},
		{vcard.FieldOrganization, "Contoso, Ltd.;Legal"},
	}
	for _, ch := range checks {
		if got := c.Value(ch.field); got != ch.want {
			t.Errorf("%s = %q, want %q", ch.field, got, ch.want)
		}
	}
	if uid := c.Get(vcard.FieldUID); uid.Params.Get(vcard.ParamValue) != "text" {
		t.Errorf("UID value type %q", uid.Params.Get(vcard.ParamValue))
	}
	n := c.Name()
	if n == nil || n.FamilyName != "Müller" || n.GivenName != "Anna" || n.AdditionalName != "Maria" || n.HonorificPrefix != "Dr." {
		t.Errorf("N = %+v", n)
	}
	if got := c.Values(vcard.FieldEmail); strings.Join(got, " ") != "anna@contoso.test anna.private@example.test" {
		t.Errorf("EMAIL = %q", got)
	}
	if c.Preferred(vcard.FieldEmail).Value != "anna@contoso.test" {
		t.Errorf("preferred email %q", c.Preferred(vcard.FieldEmail).Value)
	}
	tels := map[string]string{}
	for _, f := range c[vcard.FieldTelephone] {
		types := f.Params.Types()
		if len(types) != 2 || types[1] != vcard.TypeVoice {
			t.Errorf("TEL %q types %q", f.Value, types)
			continue
		}
		tels[types[0]] = f.Value
	}
	wantTels := map[string]string{vcard.TypeWork: "+49 30 1234567", vcard.TypeHome: "+49 30 7654321", vcard.TypeCell: "+49 170 1111111"}
	for k, v := range wantTels {
		if tels[k] != v {
			t.Errorf("TEL type %s = %q, want %q", k, tels[k], v)
		}
	}
	if len(c[vcard.FieldTelephone]) != 3 {
		t.Errorf("%d TEL, want 3 (empty numbers dropped)", len(c[vcard.FieldTelephone]))
	}
	addrs := c.Addresses()
	if len(addrs) != 2 {
		t.Fatalf("%d ADR, want 2 (empty one dropped)", len(addrs))
	}
	work, home := addrs[0], addrs[1]
	if !work.Params.HasType(vcard.TypeWork) || work.StreetAddress != "Unter den Linden 1" || work.Locality != "Berlin" || work.PostalCode != "10117" || work.Country != "Germany" {
		t.Errorf("work ADR %+v", work)
	}
	if !home.Params.HasType(vcard.TypeHome) || home.StreetAddress != "Hauptstraße 5\nHinterhaus" || home.Locality != "Potsdam" {
		t.Errorf("home ADR %+v", home)
	}
}

// splitEscaped splits a compound value at unescaped semicolons and undoes
// the RFC 6350 escapes, for the \; that go-vcard leaves alone.
func splitEscaped(v string) []string {
	var out []string
	var cur strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v):
			i++
			if v[i] == 'n' || v[i] == 'N' {
				cur.WriteByte('\n')
			} else {
				cur.WriteByte(v[i])
			}
		case c == ';':
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(c)
		}
	}
	return append(out, cur.String())
}

func TestContactToVCardCases(t *testing.T) {
	for _, tc := range []struct {
		name   string
		json   string
		fn     string
		bday   string
		absent []string
		n      []string // the N components, via the escape-aware splitter
	}{
		{name: "display name only", json: `{"displayName":"Reception"}`, fn: "Reception", absent: []string{"N", "EMAIL", "TEL", "ORG", "ADR", "BDAY", "NOTE", "UID"}},
		{name: "names compose FN", json: `{"givenName":"Bo","surname":"Li"}`, fn: "Bo Li", n: []string{"Li", "Bo", "", "", ""}},
		{name: "company as FN", json: `{"companyName":"Fabrikam"}`, fn: "Fabrikam"},
		{name: "email as FN", json: `{"emailAddresses":[{"address":"x@y.test"}]}`, fn: "x@y.test"},
		{name: "nothing", json: `{}`, fn: "Unnamed contact"},
		{name: "birthday without year", json: `{"displayName":"A","birthday":"1604-12-24T00:00:00Z"}`, fn: "A", bday: "--1224"},
		{name: "bad birthday", json: `{"displayName":"A","birthday":"soon"}`, fn: "A", absent: []string{"BDAY"}},
		{name: "null fields", json: `{"displayName":"A","emailAddresses":null,"homeAddress":null,"mobilePhone":null}`, fn: "A", absent: []string{"EMAIL", "ADR", "TEL"}},
		{name: "separators in names", json: `{"displayName":"O'Neil; Sean, Jr.","surname":"O;Neil","givenName":"Se,an","generation":"Jr."}`,
			fn: "O'Neil; Sean, Jr.", n: []string{"O;Neil", "Se,an", "", "", "Jr."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data, err := ContactToVCard([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			cards := decodeCards(t, data)
			if len(cards) != 1 {
				t.Fatalf("%d cards", len(cards))
			}
			c := cards[0]
			if got := c.Value(vcard.FieldFormattedName); got != tc.fn {
				t.Errorf("FN %q, want %q", got, tc.fn)
			}
			if tc.bday != "" && c.Value(vcard.FieldBirthday) != tc.bday {
				t.Errorf("BDAY %q, want %q", c.Value(vcard.FieldBirthday), tc.bday)
			}
			for _, f := range tc.absent {
				if c.Get(f) != nil {
					t.Errorf("%s present: %q", f, c.Value(f))
				}
			}
			if tc.n != nil {
				var raw string
				for _, l := range unfold(physicalLines(t, data)) {
					if strings.HasPrefix(l, "N:") {
						raw = l[2:]
					}
				}
				if got := splitEscaped(raw); strings.Join(got, "|") != strings.Join(tc.n, "|") {
					t.Errorf("N components %q, want %q", got, tc.n)
				}
			}
		})
	}
}

func TestVCardFolding(t *testing.T) {
	note := strings.Repeat("Überprüfung des Vertrags, Seite 1; ✓ 日本語 ", 12)
	js, _ := json.Marshal(map[string]string{"displayName": "Fold Test", "personalNotes": note})
	data, err := ContactToVCard(js)
	if err != nil {
		t.Fatal(err)
	}
	lines := physicalLines(t, data)
	continued := 0
	for _, l := range lines {
		if strings.HasPrefix(l, " ") {
			continued++
		}
	}
	if continued < 5 {
		t.Errorf("only %d continuation lines for a %d-octet note", continued, len(note))
	}
	c := decodeCards(t, data)[0]
	if got := c.Value(vcard.FieldNote); got != note {
		t.Errorf("unfolded NOTE differs:\n got %q\nwant %q", got, note)
	}
}

func TestWriteVCF(t *testing.T) {
	contacts := [][]byte{[]byte(fullContact), []byte(`{"displayName":"Second"}`), []byte(`{"displayName":"Third","id":"3"}`)}
	var buf bytes.Buffer
	if err := WriteVCF(&buf, contacts); err != nil {
		t.Fatal(err)
	}
	cards := decodeCards(t, buf.Bytes())
	var names []string
	for _, c := range cards {
		names = append(names, c.Value(vcard.FieldFormattedName))
	}
	if strings.Join(names, "|") != "Müller, Anna|Second|Third" {
		t.Errorf("cards %q", names)
	}
	if err := WriteVCF(&bytes.Buffer{}, [][]byte{[]byte(`{"displayName":1}`)}); err == nil {
		t.Error("bad contact JSON accepted")
	}
}

func FuzzContactToVCard(f *testing.F) {
	f.Add([]byte(fullContact))
	f.Add([]byte(`{"displayName":"\u0000\r\n;,\\","birthday":"1604-02-30T00:00:00Z"}`))
	f.Add([]byte(`{"emailAddresses":[{}],"homeAddress":{"street":"é\ud800"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := ContactToVCard(data)
		if err != nil {
			return
		}
		physicalLines(t, out)
		if _, err := vcard.NewDecoder(bytes.NewReader(out)).Decode(); err != nil {
			t.Fatalf("go-vcard cannot read the card: %v\n%s", err, out)
		}
	})
}
