package units

import (
	"strings"
	"testing"
	"time"
)

// TestParseDurationRange: a duration must be more than zero and at most 100
// years; a huge one is refused with a message about its size instead of
// wrapping round to a negative duration (which put a retain-until in year
// 0001).
func TestParseDurationRange(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{in: "36h", want: 36 * time.Hour},
		{in: " 30d ", want: 30 * 24 * time.Hour},
		{in: "7y", want: 7 * 365 * 24 * time.Hour},
		{in: "1.5d", want: 36 * time.Hour},
		{in: "100y", want: MaxDuration},
		{in: "36500d", want: MaxDuration},
		{in: "876000h", want: MaxDuration},
		{in: "100.01y", wantErr: "more than 100 years"},
		{in: "36501d", wantErr: "more than 100 years"},
		{in: "876001h", wantErr: "more than 100 years"},
		{in: "1000000y", wantErr: "more than 100 years"},
		{in: "1e300y", wantErr: "more than 100 years"},
		{in: "2562047h", wantErr: "more than 100 years"}, // fits a Duration, still too long
		{in: "9999999999h", wantErr: "at most 100y"},     // does not fit a Duration at all
		{in: "0", wantErr: "longer than zero"},
		{in: "0d", wantErr: "longer than zero"},
		{in: "0s", wantErr: "longer than zero"},
		{in: "-1h", wantErr: "longer than zero"},
		{in: "-5d", wantErr: "longer than zero"},
		{in: "NaNd", wantErr: "want a number"},
		{in: "Infy", wantErr: "want a number"},
		{in: "soon", wantErr: "use forms like"},
	} {
		got, err := ParseDuration(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Errorf("ParseDuration(%q) = %v, %v; want an error naming it and saying %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}

}

func TestParseDate(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2030-01-31":                time.Date(2030, 1, 31, 0, 0, 0, 0, time.UTC),
		"2030-01-31T12:30:00Z":      time.Date(2030, 1, 31, 12, 30, 0, 0, time.UTC),
		"2030-01-31T12:30:00+02:00": time.Date(2030, 1, 31, 10, 30, 0, 0, time.UTC),
	} {
		if got, err := ParseDate(in); err != nil || !got.Equal(want) {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "31.01.2030", "2030-13-01", "tomorrow"} {
		if _, err := ParseDate(in); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("ParseDate(%q) = %v; want an error naming the forms", in, err)
		}
	}
}

// TestParseBytes guards the sizes an operator may type for --split-size.
func TestParseBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1048576", want: 1 << 20},
		{in: "20GB", want: 20 << 30},
		{in: "20 GiB", want: 20 << 30},
		{in: "1.5g", want: 3 << 29},
		{in: "500MB", want: 500 << 20},
		{in: "64k", want: 64 << 10},
		{in: "twenty", bad: true},
		{in: "-1GB", bad: true},
		{in: "", bad: true},
	} {
		got, err := ParseBytes(c.in)
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "e.g. 20GB") {
				t.Errorf("ParseBytes(%q) = %d, %v; want an error naming the form", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

// TestDateFlag checks that the flag value reads what ParseDate reads,
// shows it back as RFC 3339, and refuses what ParseDate refuses without
// changing the time.
func TestDateFlag(t *testing.T) {
	var at time.Time
	f := DateFlag{T: &at}
	if err := f.Set("2026-03-14T09:30:00Z"); err != nil || f.String() != "2026-03-14T09:30:00Z" {
		t.Fatalf("set an RFC 3339 time: %v, shows %q", err, f.String())
	}
	if err := f.Set("14.03.2026"); err == nil || f.String() != "2026-03-14T09:30:00Z" {
		t.Fatalf("a date in another form: %v, time now %q", err, f.String())
	}
	if err := f.Set("2026-03-15"); err != nil || !at.Equal(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("a day: %v, %s", err, at)
	}
}
