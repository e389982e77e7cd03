package simctl

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// faultModes names the modes ParseFaults accepts, for its errors; the
// tenant-sim command's help says what each value means.
const faultModes = "truncate=RATE, reset=RATE, 503=RATE, burst=N, slow=RATE[:DELAY], corrupt=ITEM-ID[:N] (see 'strongroom tenant-sim --help')"

// defaultSlowDelay is how long a slow answer waits when the spec names
// no delay.
const defaultSlowDelay = time.Second

// ParseFaults reads a comma-separated list of MODE=VALUE (the tenant-sim command's help lists them)
// into the faults the simulator injects. An empty spec, or "none", is no
// fault. Every mode but corrupt may appear once.
func ParseFaults(spec string) (tenantsim.Faults, error) {
	var f tenantsim.Faults
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return f, nil
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(spec, ",") {
		mode, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || value == "" {
			return f, fmt.Errorf("fault %q: want MODE=VALUE; modes: %s", part, faultModes)
		}
		if seen[mode] && mode != "corrupt" {
			return f, fmt.Errorf("fault %s given twice: name each mode once", mode)
		}
		seen[mode] = true
		if err := setFault(&f, mode, value); err != nil {
			return f, fmt.Errorf("fault %s=%s: %w", mode, value, err)
		}
	}
	return f, nil
}

// setFault sets one mode of f from its value.
func setFault(f *tenantsim.Faults, mode, value string) error {
	var err error
	switch mode {
	case "truncate":
		f.TruncateRate, err = rate(value)
	case "reset":
		f.ResetRate, err = rate(value)
	case "503":
		f.ServerErrorRate, err = rate(value)
	case "burst":
		f.ServerErrorBurst, err = strconv.Atoi(value)
		if err == nil && f.ServerErrorBurst < 1 {
			err = fmt.Errorf("want at least 1 answer per burst")
		}
	case "slow":
		r, d, _ := strings.Cut(value, ":")
		if f.SlowRate, err = rate(r); err != nil {
			return err
		}
		f.SlowDelay = defaultSlowDelay
		if d != "" {
			f.SlowDelay, err = time.ParseDuration(d)
			if err == nil && f.SlowDelay <= 0 {
				err = fmt.Errorf("want a positive delay such as 500ms or 2s")
			}
		}
	case "corrupt":
		return corruptFault(f, value)
	default:
		return fmt.Errorf("unknown mode; modes: %s", faultModes)
	}
	return err
}

// corruptFault adds ITEM-ID[:N] to the downloads f corrupts.
func corruptFault(f *tenantsim.Faults, value string) error {
	id, count, hasCount := strings.Cut(value, ":")
	n := -1
	if hasCount {
		var err error
		if n, err = strconv.Atoi(count); err != nil || n < 1 {
			return fmt.Errorf("want ITEM-ID:N with N a count of downloads of at least 1")
		}
	}
	if id == "" {
		return fmt.Errorf("want the id of a file item")
	}
	if f.CorruptContent == nil {
		f.CorruptContent = map[string]int{}
	}
	f.CorruptContent[id] = n
	return nil
}

// rate reads a probability between 0 and 1.
func rate(s string) (float64, error) {
	r, err := strconv.ParseFloat(s, 64)
	if err != nil || r < 0 || r > 1 {
		return 0, fmt.Errorf("want a probability between 0 and 1, such as 0.05")
	}
	return r, nil
}

// FormatFaults writes f back as a spec ParseFaults reads, modes in a
// fixed order; "none" when no fault is set.
func FormatFaults(f tenantsim.Faults) string {
	var parts []string
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	if f.TruncateRate > 0 {
		parts = append(parts, "truncate="+num(f.TruncateRate))
	}
	if f.ResetRate > 0 {
		parts = append(parts, "reset="+num(f.ResetRate))
	}
	if f.ServerErrorRate > 0 {
		parts = append(parts, "503="+num(f.ServerErrorRate), "burst="+strconv.Itoa(max(f.ServerErrorBurst, 1)))
	}
	if f.SlowRate > 0 {
		parts = append(parts, "slow="+num(f.SlowRate)+":"+f.SlowDelay.String())
	}
	ids := make([]string, 0, len(f.CorruptContent))
	for id := range f.CorruptContent {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if n := f.CorruptContent[id]; n > 0 {
			parts = append(parts, fmt.Sprintf("corrupt=%s:%d", id, n))
		} else {
			parts = append(parts, "corrupt="+id)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}
