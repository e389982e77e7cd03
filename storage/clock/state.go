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

// stateVersion is the only state file format this package understands.
const stateVersion = 1

// maxStateSize bounds how much of a state file is decoded; a real one is
// well under 200 bytes.
const maxStateSize = 4096

// state is the content of the state file.
type state struct {
	Version     int       `json:"version"`
	Trusted     time.Time `json:"trusted"`
	JumpPending bool      `json:"jump_pending"`
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
	case *st.Version != stateVersion:
		return state{}, fmt.Errorf("version %d is not the supported version %d", *st.Version, stateVersion)
	case st.Trusted == nil || st.Trusted.IsZero():
		return state{}, errors.New("trusted time is missing")
	case st.JumpPending == nil:
		return state{}, errors.New("jump_pending is missing")
	}
	return state{Version: *st.Version, Trusted: st.Trusted.UTC(), JumpPending: *st.JumpPending}, nil
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
	if err = tmp.Chmod(0o600); err != nil {
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
