// Package safefs writes files beneath a directory without ever following a
// symbolic link inside it.
//
// Restores and exports write files, under names taken from backed-up data,
// into a directory that an operator names. What already lies in that
// directory is not trusted: a symbolic link left there, by an earlier run or
// by someone else, must not send a write to a place outside it. A Dir is an
// open directory, and every name given to its methods is resolved beneath
// it; a symbolic link met on the way, the last component included, is an
// error (a *SymlinkError, matching ErrSymlink) that names the link. Nothing
// is skipped silently.
//
// Words used here:
//
//   - Root: the directory a Dir was opened on with OpenRoot. The path to the
//     root is the caller's choice and is opened as named, following symbolic
//     links like any other open; only names beneath it are resolved
//     strictly.
//   - Name: a relative, slash-separated path below the root, such as
//     "mail/anna/00001.eml". It is cleaned lexically first; an absolute name,
//     or one whose ".." would leave the root, is refused (ErrEscape).
//   - Resolving beneath: on Linux 5.6 and later, openat2(2) with
//     RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS looks a whole name up in one call
//     and the kernel enforces both rules. Where openat2 is missing (ENOSYS,
//     or EPERM from a seccomp filter that does not know it) the name is
//     walked one component at a time with openat(O_NOFOLLOW|O_DIRECTORY),
//     and MkdirAll creates missing directories with mkdirat. Files are always
//     opened with O_NOFOLLOW.
//   - Last component: Chtimes, Link, Rename, Remove and Lstat resolve the
//     parent directory as above and then use the *at system call on the
//     parent's descriptor, which never follows the last component.
//
// The method set mirrors os.Root's (OpenFile, Create, WriteFile, Mkdir,
// MkdirAll, Chtimes, Link, Rename, Remove, Lstat, Name, Close), so code
// written against an interface of those methods accepts either. os.Root
// also keeps names inside the root, but it follows symbolic links that stay
// inside; a Dir refuses every one.
//
// The package depends on nothing of Strongroom, so both the storage engine
// and the appliance use it.
package safefs
