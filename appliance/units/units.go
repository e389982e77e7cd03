// Package units writes quantities the way the command line and the console
// show them to an operator: sizes in binary (IEC) units, ages and
// retention windows in days, counts with their noun. It is the one place
// where these forms are chosen, so the CLI and the console agree. The
// storage side never formats; it returns numbers.
package units

import (
	"fmt"
	"strings"
	"time"
)

// integer is any integer type a size or a count comes in.
type integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// magnitude splits n into its sign and its absolute value without
// overflowing on the most negative value of a signed type.
func magnitude[N integer](n N) (sign string, abs uint64) {
	if n < 0 {
		return "-", uint64(-(n + 1)) + 1
	}
	return "", uint64(n)
}

// Bytes writes a byte count with a binary unit: "512 B", "1.5 KiB",
// "3.6 TiB". Below 1 KiB the count is exact; above, one decimal.
func Bytes[N integer](n N) string {
	sign, v := magnitude(n)
	const unit = 1024
	if v < unit {
		return fmt.Sprintf("%s%d B", sign, v)
	}
	div, exp := uint64(unit), 0
	for m := v / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%s%.1f %ciB", sign, float64(v)/float64(div), "KMGTPE"[exp])
}

const day = 24 * time.Hour

// Age writes how long ago something happened (or how long it has run), as
// operators read ages: "45s", "12m", "3h20m", "4d2h". A negative age is
// "in the future".
func Age(d time.Duration) string {
	switch {
	case d < 0:
		return "in the future"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 2*day:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%dh", int(d/day), int(d%day/time.Hour))
}

// Window writes a retention window as operators type it (and as the
// configuration reads it): whole years of 365 days as "7y", whole days as
// "30d", anything else in Go's form ("36h0m0s").
func Window(d time.Duration) string {
	switch {
	case d > 0 && d%(365*day) == 0:
		return fmt.Sprintf("%dy", d/(365*day))
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	}
	return d.String()
}

// Count writes n with its noun, in the plural unless n is one: "1 disk",
// "3 disks", "2 mailboxes". noun is the singular; nouns ending in s, x,
// ch or sh take "es".
func Count[N integer](n N, noun string) string {
	sign, v := magnitude(n)
	if v == 1 && sign == "" {
		return "1 " + noun
	}
	for _, end := range []string{"s", "x", "ch", "sh"} {
		if strings.HasSuffix(noun, end) {
			return fmt.Sprintf("%s%d %ses", sign, v, noun)
		}
	}
	return fmt.Sprintf("%s%d %ss", sign, v, noun)
}
