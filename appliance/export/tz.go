package export

import (
	"fmt"
	"strings"
	"time"

	// The appliance must resolve zones the same way whatever tz database
	// its host has, so the exporter carries Go's own.
	_ "time/tzdata"
)

// windowsZones maps the Windows time zone names that Exchange and Graph
// use onto IANA zones (the territory-001 entries of CLDR's windowsZones).
var windowsZones = map[string]string{
	"Dateline Standard Time":          "Etc/GMT+12",
	"UTC-11":                          "Etc/GMT+11",
	"Hawaiian Standard Time":          "Pacific/Honolulu",
	"Alaskan Standard Time":           "America/Anchorage",
	"Pacific Standard Time (Mexico)":  "America/Tijuana",
	"Pacific Standard Time":           "America/Los_Angeles",
	"US Mountain Standard Time":       "America/Phoenix",
	"Mountain Standard Time (Mexico)": "America/Mazatlan",
	"Mountain Standard Time":          "America/Denver",
	"Central America Standard Time":   "America/Guatemala",
	"Central Standard Time":           "America/Chicago",
	"Central Standard Time (Mexico)":  "America/Mexico_City",
	"Canada Central Standard Time":    "America/Regina",
	"SA Pacific Standard Time":        "America/Bogota",
	"Eastern Standard Time":           "America/New_York",
	"Eastern Standard Time (Mexico)":  "America/Cancun",
	"US Eastern Standard Time":        "America/Indianapolis",
	"Venezuela Standard Time":         "America/Caracas",
	"Atlantic Standard Time":          "America/Halifax",
	"SA Western Standard Time":        "America/La_Paz",
	"Pacific SA Standard Time":        "America/Santiago",
	"Newfoundland Standard Time":      "America/St_Johns",
	"E. South America Standard Time":  "America/Sao_Paulo",
	"Argentina Standard Time":         "America/Buenos_Aires",
	"SA Eastern Standard Time":        "America/Cayenne",
	"Greenland Standard Time":         "America/Godthab",
	"UTC-02":                          "Etc/GMT+2",
	"Azores Standard Time":            "Atlantic/Azores",
	"Cape Verde Standard Time":        "Atlantic/Cape_Verde",
	"UTC":                             "Etc/UTC",
	"GMT Standard Time":               "Europe/London",
	"Greenwich Standard Time":         "Atlantic/Reykjavik",
	"Morocco Standard Time":           "Africa/Casablanca",
	"W. Europe Standard Time":         "Europe/Berlin",
	"Central Europe Standard Time":    "Europe/Budapest",
	"Romance Standard Time":           "Europe/Paris",
	"Central European Standard Time":  "Europe/Warsaw",
	"W. Central Africa Standard Time": "Africa/Lagos",
	"GTB Standard Time":               "Europe/Bucharest",
	"E. Europe Standard Time":         "Europe/Chisinau",
	"FLE Standard Time":               "Europe/Kiev",
	"Israel Standard Time":            "Asia/Jerusalem",
	"Egypt Standard Time":             "Africa/Cairo",
	"South Africa Standard Time":      "Africa/Johannesburg",
	"Turkey Standard Time":            "Europe/Istanbul",
	"Arabic Standard Time":            "Asia/Baghdad",
	"Arab Standard Time":              "Asia/Riyadh",
	"Russian Standard Time":           "Europe/Moscow",
	"E. Africa Standard Time":         "Africa/Nairobi",
	"Iran Standard Time":              "Asia/Tehran",
	"Arabian Standard Time":           "Asia/Dubai",
	"Afghanistan Standard Time":       "Asia/Kabul",
	"Pakistan Standard Time":          "Asia/Karachi",
	"West Asia Standard Time":         "Asia/Tashkent",
	"India Standard Time":             "Asia/Calcutta",
	"Sri Lanka Standard Time":         "Asia/Colombo",
	"Nepal Standard Time":             "Asia/Katmandu",
	"Central Asia Standard Time":      "Asia/Almaty",
	"Bangladesh Standard Time":        "Asia/Dhaka",
	"Myanmar Standard Time":           "Asia/Rangoon",
	"SE Asia Standard Time":           "Asia/Bangkok",
	"China Standard Time":             "Asia/Shanghai",
	"Singapore Standard Time":         "Asia/Singapore",
	"Taipei Standard Time":            "Asia/Taipei",
	"W. Australia Standard Time":      "Australia/Perth",
	"Tokyo Standard Time":             "Asia/Tokyo",
	"Korea Standard Time":             "Asia/Seoul",
	"Cen. Australia Standard Time":    "Australia/Adelaide",
	"AUS Central Standard Time":       "Australia/Darwin",
	"E. Australia Standard Time":      "Australia/Brisbane",
	"AUS Eastern Standard Time":       "Australia/Sydney",
	"West Pacific Standard Time":      "Pacific/Port_Moresby",
	"Tasmania Standard Time":          "Australia/Hobart",
	"New Zealand Standard Time":       "Pacific/Auckland",
	"Fiji Standard Time":              "Pacific/Fiji",
	"Tonga Standard Time":             "Pacific/Tongatapu",
}

// resolveZone returns the location of a Graph timeZone value: nil for UTC,
// ok=false for a zone it cannot identify.
func resolveZone(name string) (loc *time.Location, ok bool) {
	name = strings.TrimSpace(name)
	switch {
	case name == "", strings.EqualFold(name, "UTC"), strings.EqualFold(name, "Etc/UTC"),
		strings.EqualFold(name, "GMT"), strings.EqualFold(name, "Coordinated Universal Time"):
		return nil, true
	}
	if iana, found := windowsZones[name]; found {
		name = iana
	}
	// "Local" would be the appliance's zone, not the event's; the rest
	// must look like an IANA name, not a path.
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") || strings.ContainsAny(name, "\\\x00") {
		return nil, false
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	if l == time.UTC || l.String() == "UTC" || l.String() == "Etc/UTC" {
		return nil, true
	}
	return l, true
}

// zoneSpan is the range of instants the VEVENTs of a calendar use in one
// zone.
type zoneSpan struct {
	loc      *time.Location
	from, to time.Time
}

func (z *zoneSpan) cover(t time.Time) {
	if z.from.IsZero() || t.Before(z.from) {
		z.from = t
	}
	if z.to.IsZero() || t.After(z.to) {
		z.to = t
	}
}

// maxTransitions bounds the observances of one VTIMEZONE.
const maxTransitions = 400

// writeVTimezone writes a VTIMEZONE for span.loc whose observances are the
// zone's real transitions from the start of the year before span.from to
// the end of the year after span.to, each given by its own DTSTART (no
// RRULE), which is exact wherever Go's tz database is. Before the first
// and after the last observance readers keep using the nearest one.
func writeVTimezone(out *contentLines, span zoneSpan) {
	loc := span.loc
	start := time.Date(span.from.In(loc).Year()-1, 1, 1, 0, 0, 0, 0, loc)
	end := time.Date(span.to.In(loc).Year()+2, 1, 1, 0, 0, 0, 0, loc)

	out.add("BEGIN", "", "VTIMEZONE")
	out.add("TZID", "", paramValue(loc.String()))
	t := start
	abbr, off := t.Zone()
	observance(out, t.IsDST(), t.In(time.FixedZone("", off)), off, off, abbr)
	for i := 0; i < maxTransitions; i++ {
		_, next := t.ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			break
		}
		prev := off
		t = next.In(loc)
		abbr, off = t.Zone()
		// An observance starts at the local time of the offset in force
		// before it, TZOFFSETFROM (RFC 5545 3.6.5).
		observance(out, t.IsDST(), next.In(time.FixedZone("", prev)), prev, off, abbr)
	}
	out.add("END", "", "VTIMEZONE")
}

func observance(out *contentLines, dst bool, localStart time.Time, from, to int, abbr string) {
	kind := "STANDARD"
	if dst {
		kind = "DAYLIGHT"
	}
	out.add("BEGIN", "", kind)
	out.add("DTSTART", "", localStart.Format("20060102T150405"))
	out.add("TZOFFSETFROM", "", utcOffset(from))
	out.add("TZOFFSETTO", "", utcOffset(to))
	if abbr != "" {
		out.add("TZNAME", "", escapeText(abbr))
	}
	out.add("END", "", kind)
}

// utcOffset formats seconds east of UTC as ±HHMM or ±HHMMSS.
func utcOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign = '-'
		sec = -sec
	}
	h, m, s := sec/3600, sec/60%60, sec%60
	if s != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, h, m, s)
	}
	return fmt.Sprintf("%c%02d%02d", sign, h, m)
}
