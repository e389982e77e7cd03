package simctl

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TestParseFaults guards the --faults spec: every mode the simulator
// injects is reachable, and bad input is refused with what to write.
func TestParseFaults(t *testing.T) {
	cases := []struct {
		name, spec string
		want       tenantsim.Faults
		err        string
	}{
		{name: "empty", spec: ""},
		{name: "none", spec: "none"},
		{name: "every rate", spec: "truncate=0.05,reset=0.01,503=0.02,burst=4,slow=0.1:250ms",
			want: tenantsim.Faults{TruncateRate: 0.05, ResetRate: 0.01, ServerErrorRate: 0.02, ServerErrorBurst: 4, SlowRate: 0.1, SlowDelay: 250 * time.Millisecond}},
		{name: "slow without delay", spec: "slow=1", want: tenantsim.Faults{SlowRate: 1, SlowDelay: time.Second}},
		{name: "spaces around parts", spec: " truncate=0.5 , reset=0 ", want: tenantsim.Faults{TruncateRate: 0.5}},
		{name: "corrupt twice", spec: "corrupt=A1:2,corrupt=B2", want: tenantsim.Faults{CorruptContent: map[string]int{"A1": 2, "B2": -1}}},
		{name: "unknown mode", spec: "drop=0.1", err: "unknown mode; modes: truncate=RATE"},
		{name: "rate above one", spec: "truncate=5", err: "fault truncate=5: want a probability between 0 and 1"},
		{name: "rate not a number", spec: "reset=often", err: "want a probability"},
		{name: "no value", spec: "truncate", err: `fault "truncate": want MODE=VALUE`},
		{name: "twice", spec: "reset=0.1,reset=0.2", err: "fault reset given twice"},
		{name: "zero burst", spec: "burst=0", err: "want at least 1 answer per burst"},
		{name: "bad delay", spec: "slow=0.1:soon", err: "fault slow=0.1:soon"},
		{name: "negative delay", spec: "slow=0.1:-1s", err: "want a positive delay"},
		{name: "corrupt count zero", spec: "corrupt=A1:0", err: "ITEM-ID:N"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseFaults(c.spec)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("ParseFaults(%q) = %+v, %v; want an error with %q", c.spec, got, err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("ParseFaults(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
			}
			// What FormatFaults writes reads back as the same faults.
			again, err := ParseFaults(FormatFaults(got))
			if got.ServerErrorRate == 0 {
				again.ServerErrorBurst = got.ServerErrorBurst
			}
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("round trip through %q: %+v, %v; want %+v", FormatFaults(got), again, err, got)
			}
		})
	}
}
