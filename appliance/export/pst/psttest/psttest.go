// Package psttest reads PST files back with independent readers, for
// tests: readpst (libpst, Debian's pst-utils) and pffexport (libpff,
// Debian's pff-tools). Each reader's output is parsed into the same
// Store so a test can compare both with what it wrote.
package psttest

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"
)

// RequireEnv, when set (make test sets it), turns a missing reader into a
// failure instead of a skip.
const RequireEnv = "STRONGROOM_REQUIRE_PST_READERS"

// Item is one item as a reader extracted it.
type Item struct {
	Kind        string // "message", "contact" or "appointment"
	Subject     string
	Text        string
	HTML        string
	Attachments map[string][]byte
	Card        string // readpst: the vCard of a contact
	Event       string // readpst: the VCALENDAR of an appointment
	Details     string // pffexport: the properties it printed
}

// Store maps a folder path ("Inbox/Signed Contracts") to its items.
type Store map[string][]Item

// Count is the number of items in every folder.
func (s Store) Count() int {
	n := 0
	for _, items := range s {
		n += len(items)
	}
	return n
}

// Tool returns the path of a reader, or skips (fails with RequireEnv) the
// test when it is missing.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s not found and %s is set: install it with 'apt-get install %s' (make deps)", name, RequireEnv, pkg)
	}
	t.Skipf("%s not found; install it with 'apt-get install %s' (make deps), or set %s to make this a failure", name, pkg, RequireEnv)
	return ""
}

// Readpst extracts file with readpst -D -S -j 0 (deleted items too, one
// file per item, attachments beside it) and parses what it wrote. Folder
// paths are relative to the store's top folder.
func Readpst(t testing.TB, file string) Store {
	t.Helper()
	bin := Tool(t, "readpst", "pst-utils")
	out := t.TempDir()
	// -j 0: one process. readpst's parallel children (its default) were
	// seen to leave one attachment of an unchanged file with other bytes
	// in one run of many, which a test cannot tell from a writer's fault.
	if b, err := exec.Command(bin, "-D", "-j", "0", "-S", "-q", "-o", out, file).CombinedOutput(); err != nil {
		t.Fatalf("readpst %s: %v\n%s", file, err, b)
	}
	tops, _ := os.ReadDir(out)
	if len(tops) != 1 {
		t.Fatalf("readpst wrote %d top directories, want the store's one", len(tops))
	}
	top := filepath.Join(out, tops[0].Name())
	store := Store{}
	err := filepath.WalkDir(top, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.Contains(d.Name(), "-") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(top, filepath.Dir(path))
		it := readpstItem(t, path, data)
		store[filepath.ToSlash(rel)] = append(store[filepath.ToSlash(rel)], it)
		return nil
	})
	if err != nil {
		t.Fatalf("walk readpst output: %v", err)
	}
	return store
}

// readpstItem parses one item file of readpst -S: a vCard, a calendar or
// a MIME message, with the attachments readpst wrote beside it as
// "N-name".
func readpstItem(t testing.TB, path string, data []byte) Item {
	t.Helper()
	s := string(data)
	switch {
	case strings.HasPrefix(s, "BEGIN:VCARD"):
		return Item{Kind: "contact", Card: s}
	case strings.HasPrefix(s, "BEGIN:VCALENDAR"):
		return Item{Kind: "appointment", Event: s}
	}
	it := Item{Kind: "message", Attachments: map[string][]byte{}}
	mr, err := mail.CreateReader(bytes.NewReader(data))
	if err != nil && mr == nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	it.Subject, _ = mr.Header.Subject()
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		body, _ := io.ReadAll(p.Body)
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			ct, _, _ := h.ContentType()
			switch {
			case ct == "text/html" && it.HTML == "":
				it.HTML = string(body)
			case it.Text == "":
				it.Text = string(body)
			}
		}
	}
	matches, _ := filepath.Glob(path + "-*")
	for _, m := range matches {
		b, err := os.ReadFile(m)
		if err != nil {
			t.Fatalf("read attachment %s: %v", m, err)
		}
		it.Attachments[strings.TrimPrefix(filepath.Base(m), filepath.Base(path)+"-")] = b
	}
	return it
}

// Pffexport extracts file with pffexport -f all and parses what it
// wrote. Folder paths are relative to "Top of Personal Folders".
func Pffexport(t testing.TB, file string) Store {
	t.Helper()
	bin := Tool(t, "pffexport", "pff-tools")
	target := filepath.Join(t.TempDir(), "x")
	if b, err := exec.Command(bin, "-f", "all", "-q", "-t", target, file).CombinedOutput(); err != nil {
		t.Fatalf("pffexport %s: %v\n%s", file, err, b)
	}
	top := filepath.Join(target+".export", "Top of Personal Folders")
	store := Store{}
	var walk func(dir, rel string)
	walk = func(dir, rel string) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("pffexport output: %v", err)
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			kind := itemKind(e.Name())
			if kind == "" {
				walk(path, strings.TrimPrefix(rel+"/"+e.Name(), "/"))
				continue
			}
			store[rel] = append(store[rel], pffItem(t, path, kind))
		}
	}
	walk(top, "")
	for k, v := range store {
		if len(v) == 0 {
			delete(store, k)
		}
	}
	return store
}

// itemKind recognises pffexport's item directories (Message00001, ...).
func itemKind(name string) string {
	for prefix, kind := range map[string]string{"Message": "message", "Contact": "contact", "Appointment": "appointment"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok && len(rest) == 5 && strings.Trim(rest, "0123456789") == "" {
			return kind
		}
	}
	return ""
}

func pffItem(t testing.TB, dir, kind string) Item {
	t.Helper()
	it := Item{Kind: kind, Attachments: map[string][]byte{}}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}
	it.Details = read("OutlookHeaders.txt") + read("Contact.txt") + read("Appointment.txt")
	// pffexport drops the first two bytes of a subject whose first UTF-8
	// byte is 0x80 or above (it takes them for a subject prefix marker),
	// so the conversation topic, which the writer sets to the subject, is
	// read first.
	for _, key := range []string{"Conversation topic:", "Subject:"} {
		for _, l := range strings.Split(it.Details, "\n") {
			if v, ok := strings.CutPrefix(l, key); ok && it.Subject == "" {
				it.Subject = strings.TrimSpace(v)
			}
		}
	}
	it.Subject = BMP(it.Subject)
	it.Text, it.HTML = read("Message.txt"), read("Message.html")
	files, _ := filepath.Glob(filepath.Join(dir, "Attachments", "*"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read attachment %s: %v", f, err)
		}
		// pffexport names them "<n>_<name>".
		_, name, _ := strings.Cut(filepath.Base(f), "_")
		it.Attachments[name] = b
	}
	return it
}

// BMP replaces every character outside Unicode's Basic Multilingual Plane
// with U+FFFD. pffexport (libpff 20180714) decodes UTF-16 surrogate pairs
// into the wrong characters, so its subjects are compared in this form.
func BMP(s string) string {
	return strings.Map(func(r rune) rune {
		if r > 0xFFFF {
			return '\uFFFD'
		}
		return r
	}, s)
}
