// Package outcome is how the command line's operations (vaultctl,
// agentctl, bench, simctl) end: the answer they write, as text or, when
// the operator asked for it, as JSON; and the two kinds of error that are
// neither success nor plain failure, which the command line turns into
// its exit codes: Usage (2) and Degraded (3).
package outcome

import (
	"encoding/json"
	"io"
	"time"
)

// Output is where an operation writes its answer, and whether as JSON.
type Output struct {
	W    io.Writer
	JSON bool
	// Progress, when not nil, receives the progress of long work (the
	// command's stderr); Bar says a bar may be drawn there (a terminal,
	// and no JSON asked for), else it gets plain lines.
	Progress io.Writer
	Bar      bool
	// ProgressEvery is how often plain progress lines are written (0: the
	// default of a few seconds).
	ProgressEvery time.Duration
}

// Show writes v as indented JSON when o asks for JSON, otherwise as text.
func Show[T any](o Output, v T, text func(io.Writer, T)) error {
	if o.JSON {
		return JSON(o.W, v)
	}
	text(o.W, v)
	return nil
}

// JSON writes v as indented JSON.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Usage marks an error in what the operator gave: no disks, no key, a
// bad date, a source that is not a directory.
type Usage struct{ Err error }

func (e Usage) Error() string { return e.Err.Error() }
func (e Usage) Unwrap() error { return e.Err }

// Degraded marks work that was done but found something that needs an
// operator: a vault that lost a disk, a backup that completed only in
// part, open alerts.
type Degraded struct{ Err error }

func (e Degraded) Error() string { return e.Err.Error() }
func (e Degraded) Unwrap() error { return e.Err }
