package setup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func chronyFixture(t *testing.T, name string) (tracking, sources, authdata []byte) {
	t.Helper()
	var out [3][]byte
	for i, r := range []string{"tracking", "sources", "authdata"} {
		b, err := os.ReadFile(filepath.Join("testdata", "chrony", name, r+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		out[i] = b
	}
	return out[0], out[1], out[2]
}

// TestParseChrony guards the time line of the status screen on chronyd's
// real answers: NTS-synchronised, synchronised without authentication,
// and no server answering, each with what to check.
func TestParseChrony(t *testing.T) {
	cases := []struct {
		name              string
		synced, authed    bool
		line, problem     string
		ntsSources, ntsUp int
	}{
		{"nts", true, true, "NTS-synchronised to 127.0.0.1, stratum 2, 0.002 ms ahead", "", 1, 1},
		{"plain", true, false, "synchronised to 127.0.0.1 WITHOUT authentication, 0.001 ms ahead", "no NTS server is configured", 0, 0},
		{"none", false, false, "NOT synchronised", "none of the 1 NTS servers answers: the network must let the appliance reach them on TCP 4460 and UDP 123", 1, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseChrony(chronyFixture(t, c.name))
			if err != nil {
				t.Fatal(err)
			}
			if got.Synchronised != c.synced || got.Authenticated != c.authed || got.Line() != c.line || got.Problem != c.problem ||
				got.NTSSources != c.ntsSources || got.NTSReachable != c.ntsUp {
				t.Errorf("got %+v, line %q", got, got.Line())
			}
		})
	}
}

// TestSystemTimeSyncWithoutChronyd guards the answer when chronyd is not
// there: not synchronised, and saying why.
func TestSystemTimeSyncWithoutChronyd(t *testing.T) {
	s := &System{Run: func(context.Context, string, ...string) ([]byte, error) {
		return nil, errors.New("chronyc: 506 Cannot talk to daemon")
	}}
	got := s.TimeSync(context.Background())
	if got.Answered || got.Synchronised || !strings.Contains(got.Line(), "chronyd does not answer") {
		t.Errorf("got %+v, line %q", got, got.Line())
	}
}
