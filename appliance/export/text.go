package export

import (
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

// contentLines accumulates the CRLF-terminated, folded content lines of a
// vCard or iCalendar object.
type contentLines struct {
	b strings.Builder
}

// maxLineOctets is the longest content line, without its CRLF, that
// RFC 5545 and RFC 6350 allow before folding.
const maxLineOctets = 75

// add writes one content line: name, params (already formatted, each
// ";KEY=VALUE") and value. The line is folded at 75 octets without
// splitting UTF-8 sequences; each continuation starts with one space,
// which counts toward the limit.
func (c *contentLines) add(name, params, value string) {
	line := name + params + ":" + value
	n := 0
	for len(line) > 0 {
		_, size := utf8.DecodeRuneInString(line)
		if n+size > maxLineOctets {
			c.b.WriteString("\r\n ")
			n = 1
		}
		c.b.WriteString(line[:size])
		n += size
		line = line[size:]
	}
	c.b.WriteString("\r\n")
}

func (c *contentLines) bytes() []byte { return []byte(c.b.String()) }

// clean makes s valid UTF-8 and drops control characters other than tab
// and line breaks, which no content line may carry.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// escapeText escapes a TEXT value (RFC 5545 3.3.11): backslash, semicolon,
// comma and newline.
func escapeText(s string) string {
	s = normalizeNewlines(clean(s))
	return textEscaper.Replace(s)
}

var textEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`)

// escapeVText escapes a vCard text value (RFC 6350 3.4): backslash, comma
// and newline. Semicolons in non-compound values stay as they are.
func escapeVText(s string) string {
	s = normalizeNewlines(clean(s))
	return vTextEscaper.Replace(s)
}

var vTextEscaper = strings.NewReplacer(`\`, `\\`, ",", `\,`, "\n", `\n`)

// joinComponents escapes each field of a compound vCard value (N, ADR,
// ORG) and joins them with semicolons.
func joinComponents(fields ...string) string {
	for i, f := range fields {
		fields[i] = textEscaper.Replace(normalizeNewlines(clean(f)))
	}
	return strings.Join(fields, ";")
}

// paramValue formats a parameter value, quoting it when it holds a colon,
// semicolon or comma. Double quotes and line breaks cannot appear in a
// parameter value and are replaced.
func paramValue(s string) string {
	s = clean(s)
	s = strings.Map(func(r rune) rune {
		switch r {
		case '"':
			return '\''
		case '\n', '\r', '\t':
			return ' '
		}
		return r
	}, s)
	if strings.ContainsAny(s, ":;,") {
		return `"` + s + `"`
	}
	return s
}

// uriValue drops what a URI value cannot contain.
func uriValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, clean(s))
}

var (
	reDropBlocks = regexp.MustCompile(`(?is)<(script|style|head|title)\b[^>]*>.*?</(script|style|head|title)\s*>`)
	reComments   = regexp.MustCompile(`(?s)<!--.*?-->`)
	reBreaks     = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|tr|ul|ol|h[1-6]|table|blockquote)\s*>`)
	reItems      = regexp.MustCompile(`(?i)<li\b[^>]*>`)
	reCells      = regexp.MustCompile(`(?i)</t[dh]\s*>`)
	reTags       = regexp.MustCompile(`(?s)<[^>]*>`)
	reSpaces     = regexp.MustCompile(`[ \t\x{00a0}]+`)
	reBlankLines = regexp.MustCompile(`\n{3,}`)
)

// htmlToText turns an HTML body into plain text, crudely: it keeps the
// text, breaks lines at block ends and decodes entities.
func htmlToText(s string) string {
	s = normalizeNewlines(s)
	s = reComments.ReplaceAllString(s, "")
	s = reDropBlocks.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\n", " ")
	s = reBreaks.ReplaceAllString(s, "\n")
	s = reItems.ReplaceAllString(s, "\n- ")
	s = reCells.ReplaceAllString(s, "\t")
	s = reTags.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	s = reSpaces.ReplaceAllString(s, " ")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	s = strings.Join(lines, "\n")
	s = reBlankLines.ReplaceAllString(s, "\n\n")
	return strings.TrimSpace(s)
}
