package export_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/strongroom/strongroom/appliance/export"
)

// TestSeriesWindowExpands guards the expansion a backup compares a
// series' instances with: an occurrence it invents or misses would be
// recorded as deleted, or a deletion missed.
func TestSeriesWindowExpands(t *testing.T) {
	master := func(start, zone, pattern, rng string) []byte {
		return fmt.Appendf(nil, `{"type":"seriesMaster","start":{"dateTime":%q,"timeZone":"UTC"},"originalStartTimeZone":%q,
			"lastModifiedDateTime":"2026-01-01T00:00:00Z","recurrence":{"pattern":%s,"range":%s}}`, start, zone, pattern, rng)
	}
	cases := []struct {
		name   string
		master []byte
		want   []string // first occurrences, RFC 3339 UTC
		count  int
		ok     bool
	}{
		{"weekly on two days, every second week",
			master("2026-01-05T09:00:00.0000000", "UTC", `{"type":"weekly","interval":2,"daysOfWeek":["monday","thursday"],"firstDayOfWeek":"monday"}`,
				`{"type":"numbered","startDate":"2026-01-05","numberOfOccurrences":5}`),
			[]string{"2026-01-05T09:00:00Z", "2026-01-08T09:00:00Z", "2026-01-19T09:00:00Z", "2026-01-22T09:00:00Z", "2026-02-02T09:00:00Z"}, 5, true},
		{"daily every third day to an end date",
			master("2026-03-01T07:30:00.0000000", "UTC", `{"type":"daily","interval":3}`, `{"type":"endDate","startDate":"2026-03-01","endDate":"2026-03-10"}`),
			[]string{"2026-03-01T07:30:00Z", "2026-03-04T07:30:00Z", "2026-03-07T07:30:00Z", "2026-03-10T07:30:00Z"}, 4, true},
		{"weekly in Berlin across the change to summer time",
			master("2026-03-23T08:00:00.0000000", "W. Europe Standard Time", `{"type":"weekly","interval":1,"daysOfWeek":["monday"]}`,
				`{"type":"numbered","startDate":"2026-03-23","numberOfOccurrences":2}`),
			[]string{"2026-03-23T08:00:00Z", "2026-03-30T07:00:00Z"}, 2, true},
		{"monthly on the last Friday",
			master("2026-01-30T15:00:00.0000000", "UTC", `{"type":"relativeMonthly","interval":1,"daysOfWeek":["friday"],"index":"last"}`,
				`{"type":"numbered","startDate":"2026-01-30","numberOfOccurrences":3}`),
			[]string{"2026-01-30T15:00:00Z", "2026-02-27T15:00:00Z", "2026-03-27T15:00:00Z"}, 3, true},
		{"yearly on 29 February",
			master("2024-02-29T12:00:00.0000000", "UTC", `{"type":"absoluteYearly","interval":1,"month":2,"dayOfMonth":29}`,
				`{"type":"endDate","startDate":"2024-02-29","endDate":"2032-03-01"}`),
			[]string{"2024-02-29T12:00:00Z", "2028-02-29T12:00:00Z", "2032-02-29T12:00:00Z"}, 3, true},
		{"no end: bounded",
			master("2025-01-06T09:00:00.0000000", "UTC", `{"type":"weekly","interval":1,"daysOfWeek":["monday"]}`, `{"type":"noEnd","startDate":"2025-01-06"}`),
			[]string{"2025-01-06T09:00:00Z"}, -1, true},
		{"the first weekday of the month: not followed",
			master("2026-01-01T09:00:00.0000000", "UTC", `{"type":"relativeMonthly","interval":1,"daysOfWeek":["monday","tuesday","wednesday","thursday","friday"],"index":"first"}`,
				`{"type":"noEnd","startDate":"2026-01-01"}`),
			nil, 0, false},
		{"unknown zone: not followed",
			master("2026-01-05T09:00:00.0000000", "Mars Standard Time", `{"type":"daily","interval":1}`, `{"type":"noEnd","startDate":"2026-01-05"}`),
			nil, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			starts, from, to, ok := export.SeriesWindow(tc.master)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			if tc.count >= 0 && len(starts) != tc.count {
				t.Errorf("%d occurrences, want %d: %v", len(starts), tc.count, starts)
			}
			for i, w := range tc.want {
				if i >= len(starts) || starts[i].Format(time.RFC3339) != w {
					t.Errorf("occurrence %d: %v, want %s", i, starts, w)
					break
				}
			}
			if ok && len(starts) > 0 && (!from.Before(starts[0]) || !to.After(starts[len(starts)-1])) {
				t.Errorf("window [%s, %s) does not hold the occurrences %s..%s", from, to, starts[0], starts[len(starts)-1])
			}
			if tc.count < 0 && (len(starts) < 150 || len(starts) > 300) {
				t.Errorf("series without an end expanded to %d occurrences, want about three years' worth", len(starts))
			}
		})
	}
}
