package osupdate

import (
	"strings"
	"testing"
)

// TestTextProgress: a line for each step, and one for every ten percent
// within a step, not one for every report.
func TestTextProgress(t *testing.T) {
	var b strings.Builder
	progress := TextProgress(&b)
	const total = 10 << 20
	for done := int64(0); done <= total; done += 1 << 18 { // 41 reports
		progress(Progress{Step: "writing root.squashfs", Done: done, Total: total})
	}
	progress(Progress{Step: "checking the kernel images"})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 1+11+1 || lines[0] != "writing root.squashfs" || lines[len(lines)-1] != "checking the kernel images" {
		t.Fatalf("progress lines:\n%s", b.String())
	}
	if lines[1] != "    0%  0 B of 10.0 MiB" || lines[11] != "  100%  10.0 MiB of 10.0 MiB" {
		t.Errorf("first and last percentage lines: %q, %q", lines[1], lines[11])
	}
}
