package export

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// Dir is a directory that the writers here resolve names beneath. The
// agent passes a *safefs.Dir (package storage/safefs), which also refuses
// every symbolic link below it, so that what already lies in an export's
// destination cannot redirect a write; an *os.Root fits as well.
type Dir interface {
	Name() string
	MkdirAll(name string, perm os.FileMode) error
	OpenFile(name string, flag int, perm os.FileMode) (*os.File, error)
	Chtimes(name string, atime, mtime time.Time) error
	Link(oldname, newname string) error
	Rename(oldname, newname string) error
	Remove(name string) error
	Lstat(name string) (os.FileInfo, error)
}

// MaildirWriter delivers messages into one Maildir folder. It is safe for
// concurrent use.
type MaildirWriter struct {
	root Dir
	dir  string // the folder, relative to root
	mu   sync.Mutex
	seq  uint64
}

// NewMaildir creates the folder dir below root ("" or "." for root itself)
// with its cur, new and tmp subdirectories (when they do not exist yet) and
// returns a writer into it. Every file operation goes through root.
func NewMaildir(root Dir, dir string) (*MaildirWriter, error) {
	if root == nil {
		return nil, errors.New("export: no maildir root directory")
	}
	if dir == "" {
		dir = "."
	}
	dir = filepath.Clean(dir)
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := root.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("export: maildir: %w", err)
		}
	}
	return &MaildirWriter{root: root, dir: dir}, nil
}

// Dir returns the folder's directory: the root's path joined with the
// folder.
func (m *MaildirWriter) Dir() string { return filepath.Join(m.root.Name(), m.dir) }

// Add stores one message in cur/ with the given Maildir flags (such as "S"
// for seen, "FS" for flagged and seen; letters are sorted and deduplicated)
// and returns nothing but an error. The message is written to tmp/ first,
// synced and then linked into cur/, so a reader never sees a partial file.
// Line endings become LF. The file's modification time is set to date,
// which Maildir readers take as the received date; a zero date leaves the
// time the file was written.
func (m *MaildirWriter) Add(mime []byte, flags string, date time.Time) error {
	_, err := m.add(mime, flags, date)
	return err
}

func (m *MaildirWriter) add(mime []byte, flags string, date time.Time) (string, error) {
	if len(mime) == 0 {
		return "", errors.New("export: empty message")
	}
	fl, err := normalizeFlags(flags)
	if err != nil {
		return "", err
	}
	data := bytes.ReplaceAll(mime, []byte("\r\n"), []byte("\n"))
	root := m.root

	for attempt := 0; ; attempt++ {
		m.mu.Lock()
		m.seq++
		seq := m.seq
		m.mu.Unlock()
		var rnd [6]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return "", err
		}
		base := strconv.FormatInt(date.Unix(), 10) + "." + strconv.FormatUint(seq, 10) +
			"_" + hex.EncodeToString(rnd[:]) + ".strongroom"
		tmp := filepath.Join(m.dir, "tmp", base)
		final := filepath.Join(m.dir, "cur", base+":2,"+fl)
		finalPath := filepath.Join(root.Name(), final)

		if err := writeSynced(root, tmp, data); err != nil {
			if errors.Is(err, os.ErrExist) && attempt < 5 {
				continue
			}
			return "", fmt.Errorf("export: maildir: %w", err)
		}
		if err := setTimes(root, tmp, date); err != nil {
			root.Remove(tmp)
			return "", fmt.Errorf("export: maildir: %w", err)
		}
		// A hard link never replaces an existing file; fall back to
		// rename where the file system has no links.
		err := root.Link(tmp, final)
		if err == nil {
			root.Remove(tmp)
			return finalPath, nil
		}
		if errors.Is(err, os.ErrExist) && attempt < 5 {
			root.Remove(tmp)
			continue
		}
		if _, statErr := root.Lstat(final); statErr == nil {
			root.Remove(tmp)
			return "", fmt.Errorf("export: maildir: %s exists", finalPath)
		}
		if err := root.Rename(tmp, final); err != nil {
			root.Remove(tmp)
			return "", fmt.Errorf("export: maildir: %w", err)
		}
		return finalPath, nil
	}
}

func writeSynced(root Dir, name string, data []byte) error {
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		root.Remove(name)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		root.Remove(name)
		return err
	}
	if err := f.Close(); err != nil {
		root.Remove(name)
		return err
	}
	return nil
}

// normalizeFlags sorts and deduplicates Maildir info flags. Upper-case
// letters are the standard flags (D, F, P, R, S, T); lower-case letters are
// keywords some servers define.
func normalizeFlags(flags string) (string, error) {
	var fl []byte
	for i := 0; i < len(flags); i++ {
		c := flags[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return "", fmt.Errorf("export: invalid maildir flag %q", c)
		}
		if bytes.IndexByte(fl, c) < 0 {
			fl = append(fl, c)
		}
	}
	sort.Slice(fl, func(i, j int) bool { return fl[i] < fl[j] })
	return string(fl), nil
}

// FolderDir returns the Maildir++ directory of an Exchange folder path
// ("/"-separated, as in the catalog's folder metadata) below root. The
// root is the mailbox's INBOX, so "Inbox" (in any case) and "" map onto
// root itself; every other folder is a dot-directory holding its full path
// joined with dots: "Inbox/Signed Contracts" is root/".Inbox.Signed
// Contracts" and "Archive/2024" is root/".Archive.2024". Each name is
// encoded in modified UTF-7 (RFC 3501) as Courier and Dovecot store them;
// a dot or slash inside a name is encoded too, so it cannot be taken for a
// hierarchy separator.
func FolderDir(root, folderPath string) string {
	var parts []string
	for _, p := range strings.Split(folderPath, "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 || len(parts) == 1 && strings.EqualFold(parts[0], "inbox") {
		return root
	}
	enc := make([]string, len(parts))
	for i, p := range parts {
		enc[i] = encodeMUTF7(p)
	}
	return filepath.Join(root, "."+strings.Join(enc, "."))
}

var mutf7Encoding = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").WithPadding(base64.NoPadding)

// encodeMUTF7 encodes a folder name in IMAP's modified UTF-7. Besides the
// characters outside printable ASCII, '.' and '/' are shifted into base64
// because they separate levels of a Maildir++ hierarchy.
func encodeMUTF7(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	var pending []rune
	flush := func() {
		if len(pending) == 0 {
			return
		}
		u := utf16.Encode(pending)
		raw := make([]byte, 0, 2*len(u))
		for _, c := range u {
			raw = append(raw, byte(c>>8), byte(c))
		}
		b.WriteByte('&')
		b.WriteString(mutf7Encoding.EncodeToString(raw))
		b.WriteByte('-')
		pending = pending[:0]
	}
	for _, r := range s {
		switch {
		case r == '&':
			flush()
			b.WriteString("&-")
		case r >= 0x20 && r <= 0x7e && r != '.' && r != '/':
			flush()
			b.WriteRune(r)
		default:
			pending = append(pending, r)
		}
	}
	flush()
	return b.String()
}

// setTimes sets name's times to date; with no date known (zero) the file
// keeps the time it was written.
func setTimes(root Dir, name string, date time.Time) error {
	if date.IsZero() {
		return nil
	}
	return root.Chtimes(name, date, date)
}
