package offsite

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/strongroom/strongroom/storage/durable"
)

// StatusFile is the name of the copier's published status in its state
// directory (0644: the agent's metrics, report and the console read it).
const StatusFile = "status.json"

// Status is what the copier publishes after every run.
type Status struct {
	Endpoint string `json:"endpoint"`
	Bucket   string `json:"bucket"`
	VaultID  string `json:"vault_id,omitempty"`
	// Kind is what the last run was: "sync" or "verify".
	Kind string `json:"kind"`
	Last Report `json:"last"`
	// LastError is the last run's error ("" when it succeeded).
	LastError   string    `json:"last_error,omitempty"`
	LastSuccess time.Time `json:"last_success"`
	// Totals over every run since the state directory was made: counters.
	ObjectsCopied int64 `json:"objects_copied_total"`
	BytesCopied   int64 `json:"bytes_copied_total"`
	Runs          int64 `json:"runs_total"`
	FailedRuns    int64 `json:"failed_runs_total"`
}

// Record folds one run into the status.
func (s *Status) Record(kind string, rep Report, err error) {
	s.Kind, s.Last = kind, rep
	s.Runs++
	s.ObjectsCopied += rep.ObjectsCopied
	s.BytesCopied += rep.BytesCopied
	if err != nil {
		s.FailedRuns++
		s.LastError = err.Error()
		return
	}
	s.LastError = ""
	s.LastSuccess = rep.Finished
}

// ReadStatus reads the status published in dir.
func ReadStatus(dir string) (Status, error) {
	var st Status
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("offsite status %s: %w", filepath.Join(dir, StatusFile), err)
	}
	return st, nil
}

// WriteStatus publishes st in dir.
func WriteStatus(dir string, st Status) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("offsite state directory: %w", err)
	}
	return durable.WriteFile(filepath.Join(dir, StatusFile), append(b, '\n'), 0o644)
}
