// Package immutable sets, clears and reads the Linux immutable attribute of
// files and directories, the flag that `chattr +i` sets.
//
// Words used in this package:
//
//   - Immutable attribute: the inode flag FS_IMMUTABLE_FL. While it is set,
//     the file cannot be written, truncated, renamed, removed, linked to or
//     have its mode or owner changed, not even by root; a directory with the
//     flag cannot gain or lose entries. It is read and changed with the
//     FS_IOC_GETFLAGS and FS_IOC_SETFLAGS ioctls.
//   - CAP_LINUX_IMMUTABLE: the capability the kernel demands before the flag
//     can be set or cleared. Reading the flag needs no capability.
//   - Warden: the privileged Strongroom service, the only one that holds
//     CAP_LINUX_IMMUTABLE and so the only caller of [Set] and [Clear]. The
//     network-facing agent runs without the capability; for it Set and
//     Clear fail with [ErrNoPermission].
//   - Not supported: a filesystem (or kind of file) that has no such flag,
//     reported as [ErrNotSupported].
//
// Paths are opened with O_NOFOLLOW, so a symbolic link is never followed to
// change the flag of something else; only regular files and directories are
// accepted, so opening a path never has a device's side effects.
package immutable
