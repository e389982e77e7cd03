package agent

import (
	"fmt"
	"time"

	"github.com/strongroom/strongroom/appliance/units"
	"github.com/strongroom/strongroom/storage/offsite"
)

// OffsiteSummary is the offsite copy as its copier (another user, with the
// bucket's credentials the agent never holds) last published it.
type OffsiteSummary struct {
	Endpoint string `json:"endpoint"`
	Bucket   string `json:"bucket"`
	// Published is false while the copier has published no status.
	Published        bool      `json:"published"`
	LastSuccess      time.Time `json:"last_success"`
	LastError        string    `json:"last_error,omitempty"`
	Snapshots        int       `json:"snapshots"`
	SnapshotsOffsite int       `json:"snapshots_offsite"`
	NewestOffsite    string    `json:"newest_offsite,omitempty"`
	LagSeconds       float64   `json:"lag_seconds"`
	BytesCopied      int64     `json:"bytes_copied_total"`
}

// offsiteBehind is how long a restore point may wait to go offsite before
// it is an alert (as the StrongroomOffsiteBehind rule says).
const offsiteBehind = 24 * time.Hour

// offsiteSummary reads the copier's published status; nil without an
// offsite: section.
func (a *Agent) offsiteSummary() *OffsiteSummary {
	o := a.cfg.Offsite
	if o == nil {
		return nil
	}
	s := &OffsiteSummary{Endpoint: o.Endpoint, Bucket: o.Bucket}
	st, err := offsite.ReadStatus(o.StateDir)
	if err != nil {
		return s
	}
	s.Published, s.LastSuccess, s.LastError = true, st.LastSuccess, st.LastError
	s.Snapshots, s.SnapshotsOffsite, s.NewestOffsite = st.Last.Snapshots, st.Last.SnapshotsOffsite, st.Last.NewestOffsite
	s.LagSeconds, s.BytesCopied = st.Last.LagSeconds, st.BytesCopied
	return s
}

// offsiteAlerts says what is wrong with the offsite copy.
func offsiteAlerts(s *OffsiteSummary) []string {
	switch {
	case s == nil:
		return nil
	case !s.Published:
		return []string{"offsite copy configured but never run: start strongroom-offsite.service or run 'strongroom offsite sync'"}
	case s.LastError != "":
		return []string{"offsite copy failing: " + s.LastError}
	case time.Duration(s.LagSeconds)*time.Second > offsiteBehind:
		return []string{fmt.Sprintf("offsite copy %s behind: %d of %d restore points in bucket %s", units.Age(time.Duration(s.LagSeconds)*time.Second), s.SnapshotsOffsite, s.Snapshots, s.Bucket)}
	}
	return nil
}
