package vault_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strongroom/strongroom/storage/keys"
	"github.com/strongroom/strongroom/storage/vault"
)

// Environment of the crash child (TestCrashChild re-run as a helper).
const (
	crashChildEnv = "STRONGROOM_VAULT_CRASH_CHILD"
	crashDisksEnv = "STRONGROOM_VAULT_CRASH_DISKS"
	crashKeyEnv   = "STRONGROOM_VAULT_CRASH_KEY"
	crashStartEnv = "STRONGROOM_VAULT_CRASH_START"
	crashBaseEnv  = "STRONGROOM_VAULT_CRASH_BASE"
	// crashSeedEnv overrides the crash test's seed to replay a failure.
	crashSeedEnv = "STRONGROOM_CRASH_SEED"
)

const (
	crashKills    = 24
	crashDeadline = 40 * time.Second
)

// crashSeed is the content seed of snapshot n.
func crashSeed(base uint64, n int) uint64 {
	return base ^ (uint64(n+1) * 0x9e3779b97f4a7c15)
}

// crashFixture is the content of the snapshot with the given seed: a few
// items of varied sizes, some spanning several chunks, and one item shared
// with about a third of the other snapshots so they deduplicate.
func crashFixture(seed uint64) fixture {
	r := rand.New(rand.NewPCG(seed, 99))
	f := fixture{fmt.Sprintf("shared/common-%d.bin", seed%3): randomBytes(7000+seed%3, 500<<10)}
	for i := range 2 + r.IntN(4) {
		var size int
		switch r.IntN(3) {
		case 0:
			size = r.IntN(8 << 10)
		case 1:
			size = 16<<10 + r.IntN(200<<10)
		default:
			size = 300<<10 + r.IntN(1200<<10) // several chunks of at most 256 KiB
		}
		name := fmt.Sprintf("items/%d-%d.bin", i, size)
		if r.IntN(2) == 0 {
			f[name] = randomBytes(seed+uint64(i), size)
		} else {
			f[name] = incompressible(seed+uint64(i), size)
		}
	}
	return f
}

// TestCrashChild is not a test: it is the child process of
// TestCrashSafety, which re-runs the test binary with crashChildEnv set. It
// commits snapshots until it is killed, printing "BEGIN <n> <seed>" before
// each and "ACK <snapshot-id> <seed>" only after Commit has returned.
func TestCrashChild(t *testing.T) {
	if os.Getenv(crashChildEnv) != "1" {
		return
	}
	fail := func(format string, args ...any) {
		fmt.Printf("ERR "+format+"\n", args...)
		os.Exit(3)
	}
	key, err := keys.ParseRecoveryKey(os.Getenv(crashKeyEnv))
	if err != nil {
		fail("recovery key: %v", err)
	}
	start, err1 := strconv.Atoi(os.Getenv(crashStartEnv))
	base, err2 := strconv.ParseUint(os.Getenv(crashBaseEnv), 10, 64)
	if err1 != nil || err2 != nil {
		fail("bad start %v or base %v", err1, err2)
	}
	disks := filepath.SplitList(os.Getenv(crashDisksEnv))
	v, err := vault.Open(smallOptions(disks, vault.InitResult{RecoveryKey: key}))
	if err != nil {
		fail("open vault: %v", err)
	}
	fmt.Println("READY")
	for n := start; ; n++ {
		seed := crashSeed(base, n)
		fmt.Printf("BEGIN %d %d\n", n, seed)
		w, err := v.NewWriter(fmt.Sprintf("crash-%d", n), map[string]string{"seed": strconv.FormatUint(seed, 10)})
		if err != nil {
			fail("new writer: %v", err)
		}
		f := crashFixture(seed)
		names := make([]string, 0, len(f))
		for name := range f {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if _, err := w.Put(vault.Item{Path: name}, bytes.NewReader(f[name])); err != nil {
				fail("put %s: %v", name, err)
			}
		}
		s, err := w.Commit(time.Time{})
		if err != nil {
			fail("commit: %v", err)
		}
		fmt.Printf("ACK %s %d\n", s.ID, seed)
	}
}

// crashRun is what the parent learned from one child.
type crashRun struct {
	begun  map[int]uint64    // snapshot number -> seed, from BEGIN lines
	acked  map[string]uint64 // snapshot ID -> seed, from ACK lines
	last   int               // highest snapshot number begun, -1 if none
	ready  bool
	errOut string
}

// runCrashChild starts a child that begins at snapshot number start and
// kills it with SIGKILL after the given delay, counted from its READY line
// when afterReady is set, else from its start.
func runCrashChild(t *testing.T, disks []string, key keys.RecoveryKey, base uint64, start int, delay time.Duration, afterReady bool) crashRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		crashChildEnv+"=1",
		crashDisksEnv+"="+strings.Join(disks, string(filepath.ListSeparator)),
		crashKeyEnv+"="+key.String(),
		crashStartEnv+"="+strconv.Itoa(start),
		crashBaseEnv+"="+strconv.FormatUint(base, 10),
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start crash child: %v", err)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	run := crashRun{begun: map[int]uint64{}, acked: map[string]uint64{}, last: -1}
	handle := func(l string) {
		f := strings.Fields(l)
		switch {
		case l == "READY":
			run.ready = true
		case len(f) == 3 && f[0] == "BEGIN":
			n, err1 := strconv.Atoi(f[1])
			seed, err2 := strconv.ParseUint(f[2], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("crash child printed a bad line %q", l)
			}
			run.begun[n] = seed
			run.last = max(run.last, n)
		case len(f) == 3 && f[0] == "ACK":
			seed, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				t.Fatalf("crash child printed a bad line %q", l)
			}
			run.acked[f[1]] = seed
		case strings.HasPrefix(l, "ERR "):
			run.errOut = l
		}
	}
	var timer <-chan time.Time
	if !afterReady {
		timer = time.After(delay)
	}
	limit := time.After(10 * time.Second)
wait:
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				break wait // the child ended by itself: an error
			}
			handle(l)
			if l == "READY" && afterReady {
				timer = time.After(delay)
			}
		case <-timer:
			break wait
		case <-limit:
			t.Logf("crash child not ready after 10s; killing it")
			break wait
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for l := range lines {
		handle(l)
	}
	werr := cmd.Wait()
	if run.errOut != "" {
		t.Fatalf("crash child (start %d) failed: %s\nstderr:\n%s", start, run.errOut, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("crash child (start %d) ended by itself (%v) instead of being killed\nstderr:\n%s", start, werr, stderr.String())
	}
	return run
}

// TestCrashSafety guards the commit order: a backup killed with SIGKILL at
// any moment leaves every acknowledged snapshot restorable byte-identical,
// no half-written snapshot visible, and a vault that scrubs healthy.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs about 20 s; skipped with -short")
	}
	seed := uint64(20240601)
	if s := os.Getenv(crashSeedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", crashSeedEnv, s, err)
		}
	}
	t.Logf("crash test seed %d (replay with %s=%d)", seed, crashSeedEnv, seed)
	r := rand.New(rand.NewPCG(seed, 1))

	disks := testDisks(t, 4)
	res, err := vault.Init(disks)
	if err != nil {
		t.Fatal(err)
	}
	begun := map[int]uint64{}
	acked := map[string]uint64{}
	inFlight := map[int]bool{} // begun, never acknowledged: killed mid-backup
	next := 0
	deadline := time.Now().Add(crashDeadline)
	for kill := range crashKills {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d kills within %s", kill, crashKills, crashDeadline)
		}
		// One kill in five lands while the child opens and recovers the
		// vault; the others while it backs up.
		afterReady := r.IntN(5) != 0
		delay := time.Duration(r.IntN(150)) * time.Millisecond
		if afterReady {
			delay = time.Duration(r.IntN(700)) * time.Millisecond
		}
		run := runCrashChild(t, disks, res.RecoveryKey, seed, next, delay, afterReady)
		ackedSeeds := map[uint64]bool{}
		for id, s := range run.acked {
			acked[id] = s
			ackedSeeds[s] = true
		}
		for n, s := range run.begun {
			begun[n] = s
			if ackedSeeds[s] {
				continue
			}
			if n != run.last {
				t.Fatalf("child (kill %d) began snapshot %d, then %d, without acknowledging %d", kill, n, run.last, n)
			}
			inFlight[n] = true
		}
		if run.last >= next {
			next = run.last + 1
		}
	}
	t.Logf("%d kills: %d snapshots begun, %d acknowledged", crashKills, len(begun), len(acked))
	if len(acked) < crashKills/2 {
		t.Fatalf("only %d snapshots were acknowledged in %d runs: the kills came too early to test much", len(acked), crashKills)
	}

	v := openVault(t, smallOptions(disks, res))
	snaps, err := v.Snapshots()
	if err != nil {
		t.Fatalf("list snapshots after the crashes: %v", err)
	}
	listed := map[string]bool{}
	names := map[string]bool{}
	visibleInFlight := 0
	for _, s := range snaps {
		listed[s.ID] = true
		if names[s.Name] {
			t.Fatalf("two snapshots are named %s", s.Name)
		}
		names[s.Name] = true
		seedText := s.Meta["seed"]
		n, err := strconv.Atoi(strings.TrimPrefix(s.Name, "crash-"))
		if err != nil {
			t.Fatalf("snapshot %s has name %q, not one the child gave", s.ID, s.Name)
		}
		want, wasAcked := acked[s.ID]
		if !wasAcked {
			if !inFlight[n] {
				t.Fatalf("snapshot %s (%s) is visible but was never begun by a killed child", s.ID, s.Name)
			}
			want = begun[n]
			visibleInFlight++
		}
		if seedText != strconv.FormatUint(want, 10) {
			t.Fatalf("snapshot %s (%s) has seed %s, the child said %d", s.ID, s.Name, seedText, want)
		}
		checkSnapshot(t, v, s, crashFixture(want))
	}
	for id := range acked {
		if !listed[id] {
			t.Fatalf("acknowledged snapshot %s is missing after the crashes", id)
		}
	}
	t.Logf("%d snapshots listed: %d acknowledged, %d completed just before a kill", len(snaps), len(acked), visibleInFlight)
	rep, err := v.Scrub(false)
	if err != nil {
		t.Fatalf("scrub after the crashes: %v", err)
	}
	if !rep.Healthy || len(rep.Problems) != 0 {
		t.Fatalf("scrub after the crashes is not healthy: %+v", rep.Problems)
	}
}
