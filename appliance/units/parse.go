package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxDuration is the longest duration ParseDuration accepts: 100 years of
// 365 days. Longer ones are mistakes, and beyond about 292 years they no
// longer fit a time.Duration.
const MaxDuration = 100 * 365 * 24 * time.Hour

// ParseDuration reads Go durations plus the d and y suffixes. The duration
// must be more than zero and at most MaxDuration (100y).
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "y": 365 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return 0, fmt.Errorf("duration %q: want a number before %q", s, suffix)
			}
			// Check in floating point: the conversion of an out-of-range
			// value to time.Duration is undefined (it gave year 0001).
			return durationInRange(s, f*float64(unit))
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: use forms like 90m, 4h, 30d or 7y (at most 100y)", s)
	}
	return durationInRange(s, float64(d))
}

// ParseDate reads a date as operators type it: YYYY-MM-DD (midnight UTC)
// or an RFC 3339 time (2030-01-31T00:00:00Z).
func ParseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("date %q: want YYYY-MM-DD or RFC 3339 (2030-01-31T00:00:00Z)", s)
}

// durationInRange returns ns nanoseconds as a duration when that is more
// than zero and at most MaxDuration.
func durationInRange(s string, ns float64) (time.Duration, error) {
	switch {
	case ns <= 0:
		return 0, fmt.Errorf("duration %q: must be longer than zero", s)
	case ns > float64(MaxDuration):
		return 0, fmt.Errorf("duration %q is more than 100 years: give at most 100y (36500d)", s)
	}
	return time.Duration(ns), nil
}

// ParseBytes reads a size an operator types: a number of bytes, or a
// number (decimals allowed) with K, M, G or T, optionally followed by "B"
// or "iB". Every unit is binary, as Bytes writes them and as Outlook
// counts its file size limit: "20GB" and "20GiB" are both 20×2³⁰ bytes.
func ParseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGT", t[n-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || v*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("size %q: give a number of bytes or one with K, M, G or T, e.g. 20GB", s)
	}
	return int64(v * float64(mult)), nil
}

// DateFlag is a command-line flag value (pflag.Value) that parses into a
// time with ParseDate.
type DateFlag struct{ T *time.Time }

// Set parses s into the flag's time.
func (f DateFlag) Set(s string) error {
	t, err := ParseDate(s)
	if err == nil {
		*f.T = t
	}
	return err
}

// String is the time as RFC 3339, or "" when unset.
func (f DateFlag) String() string {
	if f.T == nil || f.T.IsZero() {
		return ""
	}
	return f.T.Format(time.RFC3339)
}

// Type names the value in help: "time".
func (DateFlag) Type() string { return "time" }
