package immutable

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// fsImmutableFL and fsAppendFL are FS_IMMUTABLE_FL and FS_APPEND_FL from
// <linux/fs.h>. golang.org/x/sys/unix does not export them.
const (
	fsImmutableFL = 0x00000010
	fsAppendFL    = 0x00000020
)

// ErrNotSupported is returned when the filesystem, or the kind of file, has
// no immutable attribute.
var ErrNotSupported = errors.New("immutable: the filesystem does not support the immutable attribute on this file")

// ErrNoPermission is returned when the kernel refuses to change the flag. It
// wraps unix.EPERM, so errors.Is(err, fs.ErrPermission) also holds.
var ErrNoPermission = fmt.Errorf("immutable: the caller lacks CAP_LINUX_IMMUTABLE; only the warden service may set or clear the immutable attribute: %w", unix.EPERM)

// Set makes the file or directory at path immutable. It does nothing if the
// flag is already set. The caller needs CAP_LINUX_IMMUTABLE.
func Set(path string) error {
	return change("set", path, fsImmutableFL, true)
}

// Clear removes the immutable attribute from the file or directory at path.
// It does nothing if the flag is not set. The caller needs
// CAP_LINUX_IMMUTABLE.
func Clear(path string) error {
	return change("clear", path, fsImmutableFL, false)
}

// SetAppendOnly sets the append-only attribute (chattr +a) of the file or
// directory at path. On a directory it means: entries can be added, but
// none can be removed, renamed away or replaced, and the directory's mode
// and owner cannot change, whoever asks. The caller needs
// CAP_LINUX_IMMUTABLE.
func SetAppendOnly(path string) error {
	return change("set append-only", path, fsAppendFL, true)
}

// ClearAppendOnly removes the append-only attribute. The caller needs
// CAP_LINUX_IMMUTABLE.
func ClearAppendOnly(path string) error {
	return change("clear append-only", path, fsAppendFL, false)
}

// IsAppendOnly reports whether the file or directory at path has the
// append-only attribute. It needs no capability.
func IsAppendOnly(path string) (bool, error) {
	flags, err := Flags(path)
	return flags&fsAppendFL != 0, err
}

// IsSet reports whether the file or directory at path is immutable. It needs
// no capability.
func IsSet(path string) (bool, error) {
	flags, err := Flags(path)
	return flags&fsImmutableFL != 0, err
}

// Flags returns the inode flags of the file or directory at path, as
// FS_IOC_GETFLAGS reads them.
func Flags(path string) (uint32, error) {
	fd, err := open("read", path)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return 0, wrapIoctl("read", path, err)
	}
	return flags, nil
}

// change sets or clears one flag, leaving every other flag as it was.
func change(op, path string, flag uint32, on bool) error {
	fd, err := open(op, path)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return wrapIoctl(op, path, err)
	}
	want := flags &^ flag
	if on {
		want |= flag
	}
	if want == flags {
		return nil
	}
	// The kernel reads the flags as a C int whatever the ioctl number says,
	// and IoctlSetPointerInt passes a pointer to an int32.
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(int32(want))); err != nil {
		return wrapIoctl(op, path, err)
	}
	return nil
}

// open opens path for the ioctls: read-only, without following a final
// symbolic link, without blocking, and only if it is a regular file or a
// directory. It checks the type on the opened descriptor, so a path swapped
// after the check cannot slip through.
func open(op, path string) (int, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return -1, wrapOpen(op, path, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return -1, wrapOpen(op, path, unix.ELOOP)
	}
	if !regularOrDir(st.Mode) {
		return -1, fmt.Errorf("immutable: %s %s: not a regular file or directory: %w", op, path, ErrNotSupported)
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, wrapOpen(op, path, err)
	}
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, wrapOpen(op, path, err)
	}
	if !regularOrDir(st.Mode) {
		unix.Close(fd)
		return -1, fmt.Errorf("immutable: %s %s: not a regular file or directory: %w", op, path, ErrNotSupported)
	}
	return fd, nil
}

func regularOrDir(mode uint32) bool {
	t := mode & unix.S_IFMT
	return t == unix.S_IFREG || t == unix.S_IFDIR
}

// wrapOpen turns an error from finding or opening path into this
// package's error for op.
func wrapOpen(op, path string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("immutable: %s %s: is a symbolic link, which is never followed: %w", op, path, err)
	}
	return fmt.Errorf("immutable: %s %s: %w", op, path, err)
}

// wrapIoctl turns an error from FS_IOC_GETFLAGS or FS_IOC_SETFLAGS into
// this package's error for op on path: the errors that mean "no such flag
// here" become ErrNotSupported and EPERM becomes ErrNoPermission. The
// original errno stays reachable with errors.Is.
func wrapIoctl(op, path string, err error) error {
	switch {
	case errors.Is(err, unix.ENOTTY), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.EINVAL):
		return fmt.Errorf("immutable: %s %s: %w (%w)", op, path, ErrNotSupported, err)
	case errors.Is(err, unix.EPERM):
		return fmt.Errorf("immutable: %s %s: %w", op, path, ErrNoPermission)
	default:
		return fmt.Errorf("immutable: %s %s: %w", op, path, err)
	}
}

// ClearTree clears the immutable and append-only attributes of root and
// everything under it that is a regular file or a directory, for removing a
// tree on purpose (a test's vault, a wiped disk). It needs
// CAP_LINUX_IMMUTABLE and returns the first error other than "not
// supported" after trying every entry.
func ClearTree(root string) error {
	var first error
	filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if e == nil || !(e.Type().IsRegular() || e.IsDir()) {
			return nil
		}
		for _, clear := range []func(string) error{Clear, ClearAppendOnly} {
			if err := clear(p); err != nil && !errors.Is(err, ErrNotSupported) && first == nil {
				first = err
			}
		}
		return nil
	})
	return first
}
