package clock

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// stateVersion is the state file format this package writes; it also
// reads version 1, which had no monotonic anchor and no reason.
const stateVersion = 2

// maxStateSize bounds how much of a state file is decoded; a real one is
// well under 200 bytes.
const maxStateSize = 4096

// state is the content of the state file.
type state struct {
	Version     int       `json:"version"`
	Trusted     time.Time `json:"trusted"`
	JumpPending bool      `json:"jump_pending"`
	Reason      string    `json:"reason,omitempty"`
	// Boot and Since are the monotonic reading taken with Trusted (see
	// Monotonic): the boot ID and the time since that boot, in ns.
	Boot  string `json:"boot,omitempty"`
	Since int64  `json:"since_ns,omitempty"`
}

// decodeState parses and checks a state file. It rejects unknown fields,
// trailing data, a missing or zero trusted time and any other version.
func decodeState(data []byte) (state, error) {
	if len(data) > maxStateSize {
		return state{}, fmt.Errorf("file is %d bytes, more than the %d a state file can be", len(data), maxStateSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var st struct {
		Version     *int       `json:"version"`
		Trusted     *time.Time `json:"trusted"`
		JumpPending *bool      `json:"jump_pending"`
		Reason      string     `json:"reason"`
		Boot        string     `json:"boot"`
		Since       int64      `json:"since_ns"`
	}
	if err := dec.Decode(&st); err != nil {
		return state{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return state{}, errors.New("unexpected data after the JSON object")
	}
	switch {
	case st.Version == nil:
		return state{}, errors.New("version is missing")
	case *st.Version != stateVersion && *st.Version != 1:
		return state{}, fmt.Errorf("version %d is not a supported version (1 or %d)", *st.Version, stateVersion)
	case st.Trusted == nil || st.Trusted.IsZero():
		return state{}, errors.New("trusted time is missing")
	case st.JumpPending == nil:
		return state{}, errors.New("jump_pending is missing")
	}
	switch st.Reason {
	case "", ReasonJump, ReasonAhead, ReasonMissing, ReasonUnreadable:
	default:
		return state{}, fmt.Errorf("reason %q is not one this clock knows", st.Reason)
	}
	if st.Since < 0 {
		return state{}, errors.New("since_ns is negative")
	}
	return state{Version: stateVersion, Trusted: st.Trusted.UTC(), JumpPending: *st.JumpPending, Reason: st.Reason, Boot: st.Boot, Since: st.Since}, nil
}

// encodeState renders st as the state file's content.
func encodeState(st state) ([]byte, error) {
	st.Trusted = st.Trusted.Round(0).UTC()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// writeAtomic replaces the file at path with data so that a crash leaves
// either the old or the new content: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("clock: create temporary file for %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// Readable by all: the agent follows the trusted time (it holds no secret).
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("clock: write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("clock: write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("clock: sync %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("clock: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("clock: replace %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("clock: open directory of %s: %w", path, err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("clock: sync directory of %s: %w", path, err)
	}
	return nil
}
