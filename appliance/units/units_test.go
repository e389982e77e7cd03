package units

import (
	"math"
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{10 << 20, "10.0 MiB"},
		{3<<40 + 600<<30, "3.6 TiB"},
		{4e12, "3.6 TiB"}, // a disk sold as 4 TB
		{-2048, "-2.0 KiB"},
		{math.MaxInt64, "8.0 EiB"},
		{math.MinInt64, "-8.0 EiB"},
	} {
		if got := Bytes(tc.n); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := Bytes(uint64(math.MaxUint64)); got != "16.0 EiB" {
		t.Errorf("Bytes(MaxUint64) = %q", got)
	}
	if got := Bytes(uint32(2048)); got != "2.0 KiB" {
		t.Errorf("Bytes(uint32 2048) = %q", got)
	}
}

func TestAge(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "in the future"},
		{0, "0s"},
		{45 * time.Second, "45s"},
		{12*time.Minute + 59*time.Second, "12m"},
		{3*time.Hour + 20*time.Minute, "3h20m"},
		{47*time.Hour + 5*time.Minute, "47h05m"},
		{4*24*time.Hour + 2*time.Hour + 30*time.Minute, "4d2h"},
	} {
		if got := Age(tc.d); got != tc.want {
			t.Errorf("Age(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestWindow(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * 24 * time.Hour, "30d"},
		{7 * 365 * 24 * time.Hour, "7y"},
		{366 * 24 * time.Hour, "366d"},
		{36 * time.Hour, "36h0m0s"},
		{0, "0s"},
	} {
		if got := Window(tc.d); got != tc.want {
			t.Errorf("Window(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{1, "disk", "1 disk"},
		{0, "disk", "0 disks"},
		{3, "snapshot", "3 snapshots"},
		{2, "mailbox", "2 mailboxes"},
		{1, "mailbox", "1 mailbox"},
		{4, "match", "4 matches"},
		{-1, "item", "-1 items"},
	} {
		if got := Count(tc.n, tc.noun); got != tc.want {
			t.Errorf("Count(%d, %q) = %q, want %q", tc.n, tc.noun, got, tc.want)
		}
	}
}
