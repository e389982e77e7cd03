package safefs

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// ErrSymlink is matched (errors.Is) by every refusal to follow a symbolic
// link.
var ErrSymlink = errors.New("refusing to follow symbolic link")

// ErrEscape is the error of a name that is absolute or leaves the root.
var ErrEscape = errors.New("path is not beneath the directory")

// SymlinkError is a symbolic link found where a name was to be resolved.
type SymlinkError struct {
	Path string // the link: the root's path joined with the link's name
}

func (e *SymlinkError) Error() string { return ErrSymlink.Error() + " " + e.Path }

// Is matches ErrSymlink.
func (e *SymlinkError) Is(target error) bool { return target == ErrSymlink }

// Dir is an open directory beneath which names are resolved without
// following symbolic links. Its methods are safe for concurrent use.
type Dir struct {
	f    *os.File
	name string
}

// OpenRoot opens the directory name. The path itself is opened as given
// (symbolic links in it are followed); the names later given to the Dir's
// methods are not.
func OpenRoot(name string) (*Dir, error) {
	f, err := os.OpenFile(name, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	return &Dir{f: f, name: name}, nil
}

// Name returns the path the root was opened with.
func (d *Dir) Name() string { return d.name }

// Close closes the root's descriptor. Files opened through it stay open.
func (d *Dir) Close() error { return d.f.Close() }

// OpenFile opens the file name beneath d like os.OpenFile, with O_NOFOLLOW
// added. The file's Name is the root's path joined with name.
func (d *Dir) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	c, err := clean("open", name)
	if err != nil {
		return nil, err
	}
	var f *os.File
	err = d.do(func(dfd int) error {
		fd, err := openBeneath(dfd, c, flag, sysMode(perm))
		if err != nil {
			return d.classify("open", dfd, c, err)
		}
		f = os.NewFile(uintptr(fd), d.path(c))
		return nil
	})
	return f, err
}

// Create creates or truncates the file name beneath d like os.Create.
func (d *Dir) Create(name string) (*os.File, error) {
	return d.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// WriteFile writes data to the file name beneath d like os.WriteFile.
func (d *Dir) WriteFile(name string, data []byte, perm fs.FileMode) error {
	f, err := d.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Mkdir creates the directory name beneath d like os.Mkdir.
func (d *Dir) Mkdir(name string, perm fs.FileMode) error {
	return d.atParent("mkdir", name, func(pfd int, base string) error {
		return ignoringEINTR(func() error { return unix.Mkdirat(pfd, base, sysMode(perm)) })
	})
}

// MkdirAll creates the directory name beneath d and any missing parents,
// like os.MkdirAll. An existing symbolic link on the way is an error, even
// one to a directory.
func (d *Dir) MkdirAll(name string, perm fs.FileMode) error {
	c, err := clean("mkdir", name)
	if err != nil || c == "." {
		return err
	}
	return d.do(func(dfd int) error {
		fd, err := openBeneath(dfd, c, dirFlags, 0)
		if err == nil {
			unix.Close(fd)
			return nil
		}
		if err != unix.ENOENT {
			return d.classify("mkdir", dfd, c, err)
		}
		// Create what is missing, one component at a time.
		parts := strings.Split(c, "/")
		cur := dfd
		defer func() {
			if cur != dfd {
				unix.Close(cur)
			}
		}()
		for i, p := range parts {
			sofar := strings.Join(parts[:i+1], "/")
			err := ignoringEINTR(func() error { return unix.Mkdirat(cur, p, sysMode(perm)) })
			if err != nil && err != unix.EEXIST {
				return d.classify("mkdir", dfd, sofar, err)
			}
			next, err := openat(cur, p, dirFlags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if err != nil {
				return d.classify("mkdir", dfd, sofar, err)
			}
			if cur != dfd {
				unix.Close(cur)
			}
			cur = next
		}
		return nil
	})
}

// Chtimes sets the access and modification times of name beneath d like
// os.Chtimes (a zero time leaves that time unchanged). A symbolic link as
// name is refused too.
func (d *Dir) Chtimes(name string, atime, mtime time.Time) error {
	return d.atParent("chtimes", name, func(pfd int, base string) error {
		var st unix.Stat_t
		if err := ignoringEINTR(func() error { return unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
			return err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return errIsSymlink
		}
		ts := []unix.Timespec{timespec(atime), timespec(mtime)}
		return ignoringEINTR(func() error { return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW) })
	})
}

// Remove removes the file or empty directory name beneath d like
// os.Remove. A symbolic link as name is removed itself, not followed.
func (d *Dir) Remove(name string) error {
	return d.atParent("remove", name, func(pfd int, base string) error {
		err := ignoringEINTR(func() error { return unix.Unlinkat(pfd, base, 0) })
		if err == nil {
			return nil
		}
		err1 := ignoringEINTR(func() error { return unix.Unlinkat(pfd, base, unix.AT_REMOVEDIR) })
		if err1 == nil {
			return nil
		}
		// As os.Remove: rmdir of a file says ENOTDIR, so then the unlink
		// error is the real one.
		if err1 != unix.ENOTDIR {
			err = err1
		}
		return err
	})
}

// Lstat describes name beneath d like os.Lstat: a symbolic link as name is
// described, not followed. Sys returns a *unix.Stat_t.
func (d *Dir) Lstat(name string) (fs.FileInfo, error) {
	var fi *fileStat
	err := d.atParent("lstat", name, func(pfd int, base string) error {
		fi = &fileStat{name: base}
		return ignoringEINTR(func() error { return unix.Fstatat(pfd, base, &fi.st, unix.AT_SYMLINK_NOFOLLOW) })
	})
	if err != nil {
		return nil, err
	}
	return fi, nil
}

// Link makes newname a hard link to oldname, both beneath d, like os.Link.
// A symbolic link as oldname is linked itself, not followed.
func (d *Dir) Link(oldname, newname string) error {
	return d.twoNames("link", oldname, newname, func(opfd int, obase string, npfd int, nbase string) error {
		return unix.Linkat(opfd, obase, npfd, nbase, 0)
	})
}

// Rename renames oldname to newname, both beneath d, like os.Rename.
func (d *Dir) Rename(oldname, newname string) error {
	return d.twoNames("rename", oldname, newname, func(opfd int, obase string, npfd int, nbase string) error {
		return unix.Renameat(opfd, obase, npfd, nbase)
	})
}

// dirFlags open a directory only to resolve names beneath it; O_PATH needs
// no read permission on it, as a plain path lookup needs none.
const dirFlags = unix.O_PATH | unix.O_DIRECTORY

// errIsSymlink is returned by atParent's functions when the last component
// is a symbolic link that must not be used.
var errIsSymlink = errors.New("is a symbolic link")

// noOpenat2 is set once openat2 turned out to be missing.
var noOpenat2 atomic.Bool

// openBeneath opens the clean relative name beneath dirfd with flags (plus
// O_NOFOLLOW and O_CLOEXEC), never following a symbolic link and never
// leaving dirfd.
func openBeneath(dirfd int, name string, flags int, mode uint32) (int, error) {
	flags |= unix.O_NOFOLLOW | unix.O_CLOEXEC
	if !noOpenat2.Load() {
		how := unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS}
		if flags&unix.O_CREAT != 0 {
			how.Mode = uint64(mode) // openat2 refuses a mode without O_CREAT
		}
		for attempt := 0; ; attempt++ {
			fd, err := unix.Openat2(dirfd, name, &how)
			if err == nil {
				return fd, nil
			}
			if err == unix.EINTR || err == unix.EAGAIN && attempt < 16 {
				// EAGAIN: a rename elsewhere raced the lookup.
				continue
			}
			if err == unix.ENOSYS {
				noOpenat2.Store(true)
			} else if err != unix.EPERM && err != unix.EAGAIN {
				return -1, err
			}
			// EPERM may be a seccomp filter that does not know openat2;
			// the walk below reports a real EPERM again.
			break
		}
	}
	return walk(dirfd, name, flags, mode)
}

// walk is openBeneath without openat2: one openat per component.
func walk(dirfd int, name string, flags int, mode uint32) (int, error) {
	parts := strings.Split(name, "/")
	cur := dirfd
	for _, p := range parts[:len(parts)-1] {
		next, err := openat(cur, p, dirFlags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if cur != dirfd {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		cur = next
	}
	fd, err := openat(cur, parts[len(parts)-1], flags, mode)
	if cur != dirfd {
		unix.Close(cur)
	}
	return fd, err
}

func openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, mode)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// do runs fn with the root's descriptor, which stays valid until fn
// returns.
func (d *Dir) do(fn func(dfd int) error) error {
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// parent opens the directory that holds the clean name c beneath dfd and
// returns its descriptor, c's last component and a function that closes
// the descriptor.
func (d *Dir) parent(op string, dfd int, c string) (int, string, func(), error) {
	dir, base := filepath.Split(c)
	if dir == "" {
		return dfd, base, func() {}, nil
	}
	dir = strings.TrimSuffix(dir, "/")
	fd, err := openBeneath(dfd, dir, dirFlags, 0)
	if err != nil {
		return -1, "", nil, d.classify(op, dfd, dir, err)
	}
	return fd, base, func() { unix.Close(fd) }, nil
}

// atParent runs fn on the parent directory of name and name's last
// component, turning fn's error into a *fs.PathError (or a *SymlinkError
// for errIsSymlink).
func (d *Dir) atParent(op, name string, fn func(pfd int, base string) error) error {
	c, err := clean(op, name)
	if err != nil {
		return err
	}
	return d.do(func(dfd int) error {
		pfd, base, done, err := d.parent(op, dfd, c)
		if err != nil {
			return err
		}
		defer done()
		if err := fn(pfd, base); err != nil {
			if err == errIsSymlink {
				return &SymlinkError{Path: d.path(c)}
			}
			return &fs.PathError{Op: op, Path: d.path(c), Err: err}
		}
		return nil
	})
}

// twoNames runs fn on the parents and last components of two names, as
// Link and Rename need, with the error as an *os.LinkError.
func (d *Dir) twoNames(op, oldname, newname string, fn func(opfd int, obase string, npfd int, nbase string) error) error {
	oc, err := clean(op, oldname)
	if err != nil {
		return err
	}
	nc, err := clean(op, newname)
	if err != nil {
		return err
	}
	return d.do(func(dfd int) error {
		opfd, obase, odone, err := d.parent(op, dfd, oc)
		if err != nil {
			return err
		}
		defer odone()
		npfd, nbase, ndone, err := d.parent(op, dfd, nc)
		if err != nil {
			return err
		}
		defer ndone()
		if err := ignoringEINTR(func() error { return fn(opfd, obase, npfd, nbase) }); err != nil {
			return &os.LinkError{Op: op, Old: d.path(oc), New: d.path(nc), Err: err}
		}
		return nil
	})
}

// classify turns the error of resolving the clean name c beneath dfd into
// the one callers see: a *SymlinkError naming the first symbolic link on
// the way, if there is one, otherwise a *fs.PathError.
func (d *Dir) classify(op string, dfd int, c string, err error) error {
	if err == unix.ELOOP || err == unix.ENOTDIR || err == unix.EXDEV {
		if link, ok := firstSymlink(dfd, c); ok {
			return &SymlinkError{Path: d.path(link)}
		}
	}
	if err == unix.EXDEV {
		err = ErrEscape
	}
	return &fs.PathError{Op: op, Path: d.path(c), Err: err}
}

// firstSymlink returns the shortest leading part of the clean name c that
// is a symbolic link beneath dfd. Each part is looked up without following
// its last component, and the parts before it were no links, so the lookups
// themselves follow none.
func firstSymlink(dfd int, c string) (string, bool) {
	parts := strings.Split(c, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		var st unix.Stat_t
		if err := ignoringEINTR(func() error { return unix.Fstatat(dfd, p, &st, unix.AT_SYMLINK_NOFOLLOW) }); err != nil {
			return "", false
		}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return p, true
		}
	}
	return "", false
}

func (d *Dir) path(c string) string { return filepath.Join(d.name, c) }

// clean makes name a clean relative name ("." for the root itself) or
// refuses it.
func clean(op, name string) (string, error) {
	c := filepath.Clean(name)
	if filepath.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", &fs.PathError{Op: op, Path: name, Err: ErrEscape}
	}
	return c, nil
}

// sysMode is os's conversion of a FileMode to open(2)/mkdir(2) bits.
func sysMode(m fs.FileMode) uint32 {
	o := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		o |= unix.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		o |= unix.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		o |= unix.S_ISVTX
	}
	return o
}

func timespec(t time.Time) unix.Timespec {
	if t.IsZero() {
		return unix.Timespec{Sec: 0, Nsec: unix.UTIME_OMIT}
	}
	return unix.NsecToTimespec(t.UnixNano())
}

// fileStat is Lstat's fs.FileInfo.
type fileStat struct {
	name string
	st   unix.Stat_t
}

func (fi *fileStat) Name() string       { return fi.name }
func (fi *fileStat) Size() int64        { return fi.st.Size }
func (fi *fileStat) ModTime() time.Time { return time.Unix(fi.st.Mtim.Unix()) }
func (fi *fileStat) IsDir() bool        { return fi.Mode().IsDir() }
func (fi *fileStat) Sys() any           { return &fi.st }

func (fi *fileStat) Mode() fs.FileMode {
	m := fs.FileMode(fi.st.Mode & 0o777)
	switch fi.st.Mode & unix.S_IFMT {
	case unix.S_IFBLK:
		m |= fs.ModeDevice
	case unix.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFDIR:
		m |= fs.ModeDir
	case unix.S_IFIFO:
		m |= fs.ModeNamedPipe
	case unix.S_IFLNK:
		m |= fs.ModeSymlink
	case unix.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if fi.st.Mode&unix.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if fi.st.Mode&unix.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if fi.st.Mode&unix.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
