package setup

import (
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeSync is the system clock's synchronisation as chronyd reports it.
// The appliance runs chronyd with NTS servers (image/rootfs/etc/chrony):
// authenticated time lets an operator confirm a clock jump the warden is
// holding back with evidence, not only a look at a watch.
type TimeSync struct {
	// Answered is set when chronyd answered at all.
	Answered bool
	// Synchronised: chronyd has a selected server and a normal leap
	// status.
	Synchronised bool
	// Authenticated: the selected server is an NTS source, whose answers
	// chronyd accepts only when their authentication checks.
	Authenticated bool
	Server        string
	Stratum       int
	// Ahead is how far the system clock is ahead of the servers' time
	// (negative: behind).
	Ahead time.Duration
	// NTSSources is how many NTS sources are configured, NTSReachable how
	// many of them answered lately.
	NTSSources, NTSReachable int
	// Problem says what is wrong and what to check, when the time is not
	// synchronised through NTS.
	Problem string
}

// Line is the time's state in one line for the status screen.
func (t TimeSync) Line() string {
	switch {
	case !t.Answered:
		return "unknown: " + t.Problem
	case t.Synchronised && t.Authenticated:
		return fmt.Sprintf("NTS-synchronised to %s, stratum %d, %s", t.Server, t.Stratum, aheadText(t.Ahead))
	case t.Synchronised:
		return fmt.Sprintf("synchronised to %s WITHOUT authentication, %s", t.Server, aheadText(t.Ahead))
	}
	return "NOT synchronised"
}

func aheadText(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	if d < 0 {
		return fmt.Sprintf("%.3f ms behind", -ms)
	}
	return fmt.Sprintf("%.3f ms ahead", ms)
}

// csvRows reads chronyc's -c output.
func csvRows(b []byte) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(string(b)))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

// parseChrony reads `chronyc -c -n tracking`, `... sources` and `...
// authdata` (chrony 4.3; testdata/chrony has real ones).
func parseChrony(tracking, sources, authdata []byte) (TimeSync, error) {
	t := TimeSync{Answered: true}
	tr, err := csvRows(tracking)
	if err != nil || len(tr) != 1 || len(tr[0]) < 14 {
		return t, fmt.Errorf("read chronyc tracking output %q: %v", tracking, err)
	}
	row := tr[0]
	t.Server = row[1]
	t.Stratum, _ = strconv.Atoi(row[2])
	if off, err := strconv.ParseFloat(row[4], 64); err == nil {
		// chronyc prints the correction still to apply: negative when
		// the system clock is fast.
		t.Ahead = -time.Duration(off * float64(time.Second))
	}
	t.Synchronised = row[0] != "00000000" && row[13] != "Not synchronised" && t.Server != ""
	auth, err := csvRows(authdata)
	if err != nil {
		return t, fmt.Errorf("read chronyc authdata output: %w", err)
	}
	nts := map[string]bool{}
	for _, a := range auth {
		if len(a) >= 2 && a[1] == "NTS" {
			nts[a[0]] = true
			t.NTSSources++
		}
	}
	src, err := csvRows(sources)
	if err != nil {
		return t, fmt.Errorf("read chronyc sources output: %w", err)
	}
	for _, s := range src {
		if len(s) < 6 {
			continue
		}
		if reach, err := strconv.ParseUint(s[5], 8, 16); err == nil && reach != 0 && nts[s[2]] {
			t.NTSReachable++
		}
		if s[1] == "*" && s[2] == t.Server {
			t.Authenticated = nts[s[2]]
		}
	}
	t.Authenticated = t.Authenticated && t.Synchronised
	switch {
	case t.Synchronised && t.Authenticated:
	case t.NTSSources == 0:
		t.Problem = "no NTS server is configured"
	case t.NTSReachable == 0:
		t.Problem = fmt.Sprintf("none of the %d NTS servers answers: the network must let the appliance reach them on TCP 4460 and UDP 123", t.NTSSources)
	default:
		t.Problem = "NTS servers answer but are not selected yet; give chronyd a few minutes"
	}
	return t, nil
}

// TimeSync reads the clock's synchronisation from chronyd (through its
// command socket, so as root). It never fails: what went wrong is in
// Problem.
func (s *System) TimeSync(ctx context.Context) TimeSync {
	var out [3][]byte
	for i, report := range []string{"tracking", "sources", "authdata"} {
		b, err := s.run(ctx, "chronyc", "-c", "-n", report)
		if err != nil {
			return TimeSync{Problem: fmt.Sprintf("chronyd does not answer (%v): the appliance's time is not synchronised", err)}
		}
		out[i] = b
	}
	t, err := parseChrony(out[0], out[1], out[2])
	if err != nil {
		return TimeSync{Problem: err.Error()}
	}
	return t
}
