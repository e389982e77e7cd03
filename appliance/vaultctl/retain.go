package vaultctl

import (
	"fmt"
	"io"
	"time"

	"github.com/strongroom/strongroom/appliance/outcome"
	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/vault"
)

// Retention is a new retain-until: a date, or a duration from now on the
// vault's trusted clock.
type Retention struct {
	Until time.Time
	For   time.Duration
}

// ParseRetention reads exactly one of until (YYYY-MM-DD or RFC 3339) and
// forDur (30d, 7y, 36h; more than zero and at most 100 years).
func ParseRetention(until, forDur string) (Retention, error) {
	var r Retention
	var err error
	switch {
	case (until == "") == (forDur == ""):
		return r, outcome.Usage{Err: fmt.Errorf("give exactly one of --until DATE or --for DURATION")}
	case until != "":
		if r.Until, err = units.ParseDate(until); err != nil {
			return r, outcome.Usage{Err: err}
		}
	default:
		if r.For, err = units.ParseDuration(forDur); err != nil {
			return r, outcome.Usage{Err: fmt.Errorf("--for: %w", err)}
		}
	}
	return r, nil
}

// Retain raises the retain-until of snapshot ref to r and says so on out.
func Retain(out io.Writer, v *vault.Vault, ref string, r Retention) error {
	t := r.Until
	if r.For > 0 {
		t = v.Clock().Now().Add(r.For)
	}
	s, err := v.Snapshot(ref)
	if err != nil {
		return err
	}
	if err := v.ExtendRetention(s.ID, t); err != nil {
		return err
	}
	fmt.Fprintf(out, "Snapshot %s is now retained until %s.\n", s.ID, t.UTC().Truncate(time.Second).Format(time.RFC3339))
	return nil
}
