package export

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var maildirName = regexp.MustCompile(`^([0-9]+)\.([0-9]+)_([0-9a-f]{12})\.strongroom:2,([A-Za-z]*)$`)

// openRoot opens dir as the root the Maildir writer works beneath.
func openRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestMaildir(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "mail")
	md, err := NewMaildir(openRoot(t, root), "mail")
	if err != nil {
		t.Fatal(err)
	}
	if md.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", md.Dir(), dir)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		if fi, err := os.Stat(filepath.Join(dir, sub)); err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", sub, err)
		}
	}
	flags := []struct{ in, want string }{{"S", "S"}, {"SF", "FS"}, {"", ""}, {"TSRSa", "RSTa"}}
	date := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	for i, tc := range testMessages {
		if err := md.Add([]byte(tc.raw), flags[i].in, date.Add(time.Duration(i)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if tmp, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(tmp) != 0 {
		t.Errorf("tmp/ keeps %d files", len(tmp))
	}
	if nw, _ := os.ReadDir(filepath.Join(dir, "new")); len(nw) != 0 {
		t.Errorf("new/ has %d files", len(nw))
	}
	entries, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(testMessages) {
		t.Fatalf("cur/ has %d files, want %d", len(entries), len(testMessages))
	}
	seen := map[string]bool{}
	for _, e := range entries {
		m := maildirName.FindStringSubmatch(e.Name())
		if m == nil {
			t.Fatalf("name %q does not follow <unix>.<seq>_<random>.strongroom:2,<flags>", e.Name())
		}
		seq, _ := strconv.Atoi(m[2])
		if seq < 1 || seq > len(testMessages) || seen[m[2]] {
			t.Fatalf("bad or repeated sequence in %q", e.Name())
		}
		seen[m[2]] = true
		i := seq - 1
		tc := testMessages[i]
		want := date.Add(time.Duration(i) * time.Minute)
		if m[1] != strconv.FormatInt(want.Unix(), 10) {
			t.Errorf("%s: unix part %s, want %d", e.Name(), m[1], want.Unix())
		}
		if m[4] != flags[i].want {
			t.Errorf("%s: flags %q, want %q", e.Name(), m[4], flags[i].want)
		}
		path := filepath.Join(dir, "cur", e.Name())
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Equal(want) {
			t.Errorf("%s: mtime %v, want %v", e.Name(), fi.ModTime(), want)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(data) != strings.ReplaceAll(tc.raw, "\r\n", "\n") {
			t.Errorf("%s: content is not the message with LF endings", e.Name())
		}
		pm := parseMIME(t, data)
		if pm.subject != tc.subject || pm.from != tc.from {
			t.Errorf("%s: parsed subject %q from %q", e.Name(), pm.subject, pm.from)
		}
		if tc.file != "" && string(pm.files[tc.file]) != tc.content {
			t.Errorf("%s: attachment differs", e.Name())
		}
	}
}

func TestMaildirRejects(t *testing.T) {
	md, err := NewMaildir(openRoot(t, t.TempDir()), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, fl := range []string{"S,", "1", ":", "S F", "ü"} {
		if err := md.Add([]byte(testMessages[0].raw), fl, time.Now()); err == nil {
			t.Errorf("flags %q accepted", fl)
		}
	}
	if err := md.Add(nil, "S", time.Now()); err == nil {
		t.Error("empty message accepted")
	}
	if _, err := NewMaildir(nil, "x"); err == nil {
		t.Error("no root accepted")
	}
}

func TestMaildirConcurrentUnique(t *testing.T) {
	dir := t.TempDir()
	md, err := NewMaildir(openRoot(t, dir), ".")
	if err != nil {
		t.Fatal(err)
	}
	if md.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", md.Dir(), dir)
	}
	date := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	const n = 8 * 25
	errs := make(chan error, n)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				errs <- md.Add([]byte(testMessages[0].raw), "S", date)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "cur"))
	if len(entries) != n {
		t.Fatalf("%d files for %d messages with the same date", len(entries), n)
	}
}

// TestMaildirStaysBeneathRoot: every file operation goes through the root,
// so a symbolic link planted in the folder (here tmp/, pointing outside)
// cannot carry a message out of it. (The agent's root, a *safefs.Dir,
// refuses the link outright; an *os.Root refuses it as it leaves the root.)
func TestMaildirStaysBeneathRoot(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "box"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "box", "tmp")); err != nil {
		t.Fatal(err)
	}
	md, err := NewMaildir(openRoot(t, root), "box")
	if err == nil {
		err = md.Add([]byte(testMessages[0].raw), "S", time.Now())
	}
	if err == nil {
		t.Fatal("a Maildir whose tmp/ links outside the root took a message")
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("%d files were written outside the root", len(ents))
	}
}

func TestFolderDir(t *testing.T) {
	root := "/x/mbox"
	for _, tc := range []struct{ path, want string }{
		{"", root},
		{"Inbox", root},
		{"INBOX", root},
		{"/Inbox/", root},
		{"Inbox/Signed Contracts", root + "/.Inbox.Signed Contracts"},
		{"Archive/2024", root + "/.Archive.2024"},
		{"Sent Items", root + "/.Sent Items"},
		{"Entwürfe", root + "/.Entw&APw-rfe"},
		{"台北/日本語", root + "/.&U,BTFw-.&ZeVnLIqe-"},
		{"R&D", root + "/.R&-D"},
		{"v1.2", root + "/.v1&AC4-2"},
		{"Inbox//Sub", root + "/.Inbox.Sub"},
	} {
		if got := FolderDir(root, tc.path); got != tc.want {
			t.Errorf("FolderDir(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}
