package tenantsim

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
)

// serveControl answers the /_sim/ endpoints: ground truth and control for
// tests and drills. They need no token; the simulator listens on loopback.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request, segs []string) {
	switch {
	case r.Method == http.MethodGet && len(segs) == 1 && segs[0] == "counters":
		writeJSON(w, http.StatusOK, s.Counters())
	case len(segs) == 1 && segs[0] == "faults":
		if r.Method == http.MethodPost {
			var f Faults
			if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
				writeError(w, r, errBadJSON)
				return
			}
			if err := s.SetFaults(f); err != nil {
				writeError(w, r, errf(http.StatusBadRequest, "BadRequest", err.Error()))
				return
			}
		}
		writeJSON(w, http.StatusOK, s.Faults())
	case r.Method == http.MethodPost && len(segs) == 1 && segs[0] == "scenario":
		var sc Scenario
		if err := json.NewDecoder(r.Body).Decode(&sc); err != nil {
			writeError(w, r, errBadJSON)
			return
		}
		res, err := s.Apply(sc)
		if err != nil {
			writeError(w, r, errf(http.StatusBadRequest, "BadRequest", err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, res)
	case r.Method == http.MethodGet && len(segs) == 3 && segs[0] == "dump" && segs[1] == "mailbox":
		d, err := s.DumpMailbox(segs[2])
		if err != nil {
			writeError(w, r, errf(http.StatusNotFound, "Request_ResourceNotFound", err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, d)
	case r.Method == http.MethodGet && len(segs) == 3 && segs[0] == "dump" && segs[1] == "drive":
		at := uint64(math.MaxUint64)
		if v := r.URL.Query().Get("at"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				writeError(w, r, errf(http.StatusBadRequest, "BadRequest", "at must be a change sequence number."))
				return
			}
			at = n
		}
		d, err := s.DumpDriveAt(segs[2], at)
		if err != nil {
			writeError(w, r, errf(http.StatusNotFound, "itemNotFound", err.Error()))
			return
		}
		writeJSON(w, http.StatusOK, d)
	case r.Method == http.MethodGet && len(segs) == 1 && segs[0] == "info":
		writeJSON(w, http.StatusOK, s.Info())
	default:
		if !s.serveTeamsControl(w, r, segs) {
			writeError(w, r, errNoRoute)
		}
	}
}

// serveTeamsControl answers the ground truth of teams and groups:
// /_sim/dump/teams, /_sim/dump/channel/{team}/{channel} and
// /_sim/dump/group-threads/{group}. It reports whether it answered.
func (s *Sim) serveTeamsControl(w http.ResponseWriter, r *http.Request, segs []string) bool {
	if r.Method != http.MethodGet || len(segs) < 2 || segs[0] != "dump" {
		return false
	}
	var body any
	var err error
	switch {
	case len(segs) == 2 && segs[1] == "teams":
		body = s.Teams()
	case len(segs) == 4 && segs[1] == "channel":
		body, err = s.DumpChannel(segs[2], segs[3])
	case len(segs) == 3 && segs[1] == "group-threads":
		body, err = s.DumpGroupThreads(segs[2])
	default:
		return false
	}
	if err != nil {
		writeError(w, r, errf(http.StatusNotFound, "NotFound", err.Error()))
		return true
	}
	writeJSON(w, http.StatusOK, body)
	return true
}
