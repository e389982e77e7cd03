package immutable

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// requireSupported skips the test when the filesystem holding dir has no
// immutable attribute. Any other error fails the test.
func requireSupported(t *testing.T, dir string) {
	t.Helper()
	if _, err := IsSet(dir); errors.Is(err, ErrNotSupported) {
		t.Skipf("skipping: the filesystem holding %s does not support the immutable attribute: %v", dir, err)
	} else if err != nil {
		t.Fatalf("IsSet(%s): %v", dir, err)
	}
}

// setImmutable sets the flag on path and makes sure it is cleared again when
// the test ends, before t.TempDir's directory is removed.
func setImmutable(t *testing.T, path string) {
	t.Helper()
	t.Cleanup(func() {
		if err := Clear(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("cleanup: Clear(%s): %v", path, err)
		}
	})
	if err := Set(path); err != nil {
		t.Fatalf("Set(%s): %v", path, err)
	}
}

// lsattrHasI reports whether lsattr(1) from e2fsprogs shows the 'i' flag.
func lsattrHasI(t *testing.T, path string) bool {
	t.Helper()
	bin, err := exec.LookPath("lsattr")
	if err != nil {
		t.Fatalf("lsattr not found (install e2fsprogs): %v", err)
	}
	out, err := exec.Command(bin, "-d", path).CombinedOutput()
	if err != nil {
		t.Fatalf("lsattr -d %s: %v: %s", path, err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 2 || fields[len(fields)-1] != path {
		t.Fatalf("unexpected lsattr output %q", out)
	}
	return strings.ContainsRune(fields[0], 'i')
}

func checkFlag(t *testing.T, path string, want bool) {
	t.Helper()
	got, err := IsSet(path)
	if err != nil {
		t.Fatalf("IsSet(%s): %v", path, err)
	}
	if got != want {
		t.Fatalf("IsSet(%s) = %v, want %v", path, got, want)
	}
	if got := lsattrHasI(t, path); got != want {
		t.Fatalf("lsattr shows 'i' on %s: %v, want %v", path, got, want)
	}
}

func TestFileOperationsBlockedWhileImmutable(t *testing.T) {
	const content = "retained mail\n"
	tests := []struct {
		name string
		op   func(path string) error
	}{
		{name: "remove", op: os.Remove},
		{name: "rename", op: func(p string) error { return os.Rename(p, p+".moved") }},
		{name: "write file", op: func(p string) error { return os.WriteFile(p, []byte("tampered"), 0o600) }},
		{name: "open for write", op: func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err == nil {
				f.Close()
			}
			return err
		}},
		{name: "open for append", op: func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err == nil {
				f.Close()
			}
			return err
		}},
		{name: "truncate", op: func(p string) error { return os.Truncate(p, 0) }},
		{name: "chmod", op: func(p string) error { return os.Chmod(p, 0o666) }},
		{name: "chown", op: func(p string) error { return os.Chown(p, 1, 1) }},
		{name: "hard link", op: func(p string) error { return os.Link(p, p+".link") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			requireSupported(t, dir)
			path := filepath.Join(dir, "blob")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			setImmutable(t, path)
			checkFlag(t, path, true)

			if err := tt.op(path); !errors.Is(err, unix.EPERM) {
				t.Fatalf("%s on an immutable file as root: err = %v, want EPERM", tt.name, err)
			}
			if data, err := os.ReadFile(path); err != nil || string(data) != content {
				t.Fatalf("immutable file changed: %q, %v", data, err)
			}

			if err := Clear(path); err != nil {
				t.Fatalf("Clear: %v", err)
			}
			checkFlag(t, path, false)
			if err := tt.op(path); err != nil {
				t.Fatalf("%s after Clear: %v", tt.name, err)
			}
		})
	}
}

func TestDirectoryOperationsBlockedWhileImmutable(t *testing.T) {
	tests := []struct {
		name string
		op   func(dir string) error
	}{
		{name: "create entry", op: func(d string) error { return os.WriteFile(filepath.Join(d, "new"), nil, 0o600) }},
		{name: "remove entry", op: func(d string) error { return os.Remove(filepath.Join(d, "existing")) }},
		{name: "rename entry", op: func(d string) error {
			return os.Rename(filepath.Join(d, "existing"), filepath.Join(d, "renamed"))
		}},
		{name: "make subdirectory", op: func(d string) error { return os.Mkdir(filepath.Join(d, "sub"), 0o700) }},
		{name: "rename directory", op: func(d string) error { return os.Rename(d, d+".moved") }},
		{name: "chmod directory", op: func(d string) error { return os.Chmod(d, 0o777) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "vault")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			requireSupported(t, dir)
			if err := os.WriteFile(filepath.Join(dir, "existing"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			setImmutable(t, dir)
			checkFlag(t, dir, true)
			if err := tt.op(dir); !errors.Is(err, unix.EPERM) {
				t.Fatalf("%s in an immutable directory as root: err = %v, want EPERM", tt.name, err)
			}
			if err := Clear(dir); err != nil {
				t.Fatalf("Clear: %v", err)
			}
			checkFlag(t, dir, false)
			if err := tt.op(dir); err != nil {
				t.Fatalf("%s after Clear: %v", tt.name, err)
			}
		})
	}
}

func TestSetAndClearAreIdempotentAndKeepOtherFlags(t *testing.T) {
	dir := t.TempDir()
	requireSupported(t, dir)
	path := filepath.Join(dir, "blob")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Give the file another flag (d: no dump) to check it survives.
	if out, err := exec.Command("chattr", "+d", path).CombinedOutput(); err != nil {
		t.Fatalf("chattr +d: %v: %s", err, out)
	}
	setImmutable(t, path)
	if err := Set(path); err != nil {
		t.Fatalf("second Set: %v", err)
	}
	checkFlag(t, path, true)
	for range 2 {
		if err := Clear(path); err != nil {
			t.Fatalf("Clear: %v", err)
		}
	}
	checkFlag(t, path, false)
	out, err := exec.Command("lsattr", "-d", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.ContainsRune(strings.Fields(string(out))[0], 'd') {
		t.Fatalf("Set/Clear lost the 'd' flag: %s", out)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	requireSupported(t, dir)
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{name: "missing file", path: filepath.Join(dir, "missing"), want: fs.ErrNotExist},
		{name: "symbolic link is not followed", path: link, want: unix.ELOOP},
		{name: "fifo is refused without blocking", path: fifo, want: ErrNotSupported},
		{name: "device is refused", path: "/dev/null", want: ErrNotSupported},
		{name: "procfs has no flags", path: "/proc/self/status", want: ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := IsSet(tt.path); !errors.Is(err, tt.want) {
				t.Errorf("IsSet: err = %v, want %v", err, tt.want)
			}
			for name, f := range map[string]func(string) error{"Set": Set, "Clear": Clear} {
				err := f(tt.path)
				if err == nil {
					Clear(tt.path)
				}
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: err = %v, want %v", name, err, tt.want)
				}
				if err != nil && !strings.Contains(err.Error(), tt.path) {
					t.Errorf("%s: error %q does not name the path", name, err)
				}
			}
		})
	}
	if set, err := IsSet(target); err != nil || set {
		t.Fatalf("symlink target was changed: IsSet = %v, %v", set, err)
	}
}

func TestWrapIoctl(t *testing.T) {
	tests := []struct {
		name    string
		errno   unix.Errno
		want    []error
		notWant error
	}{
		{name: "ENOTTY", errno: unix.ENOTTY, want: []error{ErrNotSupported, unix.ENOTTY}, notWant: ErrNoPermission},
		{name: "EOPNOTSUPP", errno: unix.EOPNOTSUPP, want: []error{ErrNotSupported}, notWant: ErrNoPermission},
		{name: "EINVAL", errno: unix.EINVAL, want: []error{ErrNotSupported}, notWant: ErrNoPermission},
		{name: "EPERM", errno: unix.EPERM, want: []error{ErrNoPermission, unix.EPERM, fs.ErrPermission}, notWant: ErrNotSupported},
		{name: "EROFS", errno: unix.EROFS, want: []error{unix.EROFS}, notWant: ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrapIoctl("set", "/x", tt.errno)
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("%v does not wrap %v", err, w)
				}
			}
			if errors.Is(err, tt.notWant) {
				t.Errorf("%v wraps %v", err, tt.notWant)
			}
		})
	}
}

// The no-capability checks run in a process (or thread) without
// CAP_LINUX_IMMUTABLE, like the agent. childEnv tells a re-executed test
// binary to run them instead of the tests.
const childEnv = "STRONGROOM_IMMUTABLE_NOCAP_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		if err := noCapChecks(dir, true); err != nil {
			fmt.Fprintln(os.Stderr, "FAIL:", err)
			os.Exit(1)
		}
		fmt.Println("no-capability checks passed")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// prepareNoCap makes dir/plain (not immutable) and dir/locked (immutable).
func prepareNoCap(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	requireSupported(t, dir)
	for _, name := range []string{"plain", "locked"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setImmutable(t, filepath.Join(dir, "locked"))
	return dir
}

// noCapChecks expects to run without CAP_LINUX_IMMUTABLE and checks that Set
// and Clear fail with ErrNoPermission while IsSet still works. With
// checkProc it first confirms from /proc that the capability is gone.
func noCapChecks(dir string, checkProc bool) error {
	if checkProc {
		status, err := os.ReadFile("/proc/thread-self/status")
		if err != nil {
			return err
		}
		for line := range strings.Lines(string(status)) {
			var eff uint64
			if n, _ := fmt.Sscanf(line, "CapEff:\t%x", &eff); n == 1 && eff&(1<<unix.CAP_LINUX_IMMUTABLE) != 0 {
				return fmt.Errorf("CAP_LINUX_IMMUTABLE is still effective (CapEff %x)", eff)
			}
		}
	}
	plain, locked := filepath.Join(dir, "plain"), filepath.Join(dir, "locked")
	for _, c := range []struct {
		name string
		err  error
	}{{"Set(plain)", Set(plain)}, {"Clear(locked)", Clear(locked)}} {
		if !errors.Is(c.err, ErrNoPermission) || !errors.Is(c.err, unix.EPERM) {
			return fmt.Errorf("%s = %v, want ErrNoPermission wrapping EPERM", c.name, c.err)
		}
		for _, word := range []string{"CAP_LINUX_IMMUTABLE", "warden"} {
			if !strings.Contains(c.err.Error(), word) {
				return fmt.Errorf("%s error %q does not mention %s", c.name, c.err, word)
			}
		}
	}
	for path, want := range map[string]bool{plain: false, locked: true} {
		if got, err := IsSet(path); err != nil || got != want {
			return fmt.Errorf("IsSet(%s) without the capability = %v, %v; want %v", path, got, err, want)
		}
	}
	// Setting or clearing a flag that is already in place needs no change
	// and so no capability.
	if err := Set(locked); err != nil {
		return fmt.Errorf("Set on an already immutable file: %v", err)
	}
	return nil
}

// TestNoPermissionWithoutCapability re-executes the test binary under
// setpriv(1) with CAP_LINUX_IMMUTABLE removed from the bounding and
// inheritable sets, so the child runs as root but without the capability.
func TestNoPermissionWithoutCapability(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv not found (install util-linux): %v", err)
	}
	dir := prepareNoCap(t)
	cmd := exec.Command(setpriv, "--inh-caps=-linux_immutable", "--bounding-set=-linux_immutable", os.Args[0])
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child without CAP_LINUX_IMMUTABLE: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "no-capability checks passed") {
		t.Fatalf("child did not run the checks:\n%s", out)
	}
	checkFlag(t, filepath.Join(dir, "plain"), false)
	checkFlag(t, filepath.Join(dir, "locked"), true)
}

// TestNoPermissionInThreadWithoutCapability drops CAP_LINUX_IMMUTABLE from
// one locked OS thread with capset(2) and runs the checks there. The thread
// is never unlocked, so the runtime discards it afterwards.
func TestNoPermissionInThreadWithoutCapability(t *testing.T) {
	dir := prepareNoCap(t)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			done <- fmt.Errorf("capget: %w", err)
			return
		}
		const bit = uint32(1) << unix.CAP_LINUX_IMMUTABLE
		data[0].Effective &^= bit
		data[0].Permitted &^= bit
		data[0].Inheritable &^= bit
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			done <- fmt.Errorf("capset: %w", err)
			return
		}
		done <- noCapChecks(dir, true)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	checkFlag(t, filepath.Join(dir, "plain"), false)
	checkFlag(t, filepath.Join(dir, "locked"), true)
	// This goroutine's thread kept the capability: Clear still works here.
	if err := Clear(filepath.Join(dir, "locked")); err != nil {
		t.Fatalf("Clear in a thread with the capability: %v", err)
	}
}
