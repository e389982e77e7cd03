package outcome

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestShow(t *testing.T) {
	var b strings.Builder
	text := func(w io.Writer, v map[string]int) { fmt.Fprintf(w, "%d apples\n", v["apples"]) }
	if err := Show(Output{W: &b}, map[string]int{"apples": 3}, text); err != nil || b.String() != "3 apples\n" {
		t.Errorf("text: %q, %v", b.String(), err)
	}
	b.Reset()
	if err := Show(Output{W: &b, JSON: true}, map[string]int{"apples": 3}, text); err != nil || b.String() != "{\n  \"apples\": 3\n}\n" {
		t.Errorf("JSON: %q, %v", b.String(), err)
	}
}

func TestKinds(t *testing.T) {
	base := errors.New("disk 2 missing")
	err := fmt.Errorf("status: %w", Degraded{base})
	var d Degraded
	var u Usage
	if !errors.As(err, &d) || errors.As(err, &u) || !errors.Is(err, base) || err.Error() != "status: disk 2 missing" {
		t.Errorf("a wrapped Degraded: %v", err)
	}
}
