package bench

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/strongroom/strongroom/appliance/tenantsim"
)

// TeamsHelp explains the Teams figures of the tenant benchmark.
const TeamsHelp = `Teams: the agent hands out one unit of each workload in turn, so the
teams' and groups' backups start with the mailboxes, drives and sites, each
against its own budget at Graph. Teams wall is the time from
the first to the end of the last request the simulator answered under a
team or a group (/teams/{id}/..., /groups/{id}/...; the tenant-wide group
listing excluded). Channel messages are the top-level messages and
replies the simulator served in message pages (messages delta, replies);
each page holds up to the page size the agent asks for (the simulator's
defaults: 10 a delta page, 20 a replies page). With R Teams and group
requests (retries excluded) and M messages, the governor's limit L allows
at best
    ideal messages/s = L x M / R
(every request of the run sent at the limit); % of ideal = (M / Teams
wall) / ideal, which is also (R / Teams wall) / L. The governor paces to
95 % of L, so about 95 % is the most a run can show.`

// teamsClock records when the simulator answered unit-level Teams and
// group requests: the span from the first one's start to the last one's
// end since the last take.
type teamsClock struct {
	mu          sync.Mutex
	first, last time.Time
}

// observe is the simulator's Config.OnRequest.
func (c *teamsClock) observe(r *http.Request, class string, _ int, start, end time.Time) {
	if class != "teams" && class != "groups" || !unitLevel(r.URL.Path) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.first.IsZero() || start.Before(c.first) {
		c.first = start
	}
	if end.After(c.last) {
		c.last = end
	}
}

// unitLevel says whether a Graph path names a team or a group
// (/v1.0/teams/{id}/..., /v1.0/groups/{id}), not the listing of them.
func unitLevel(path string) bool {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(path, "/v1.0"), "/"), "/")
	return len(segs) >= 2 && (segs[0] == "teams" || segs[0] == "groups")
}

// take returns when the first request recorded since the last take
// began (zero when none was) and the span to the end of the last one,
// and starts anew.
func (c *teamsClock) take() (time.Time, time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	first, d := c.first, c.last.Sub(c.first)
	c.first, c.last = time.Time{}, time.Time{}
	return first, max(d, 0)
}

// teamsThrottled counts the simulator's 429s on Teams and group routes.
func teamsThrottled(c tenantsim.Counters) int64 {
	return c.Total("teams", http.StatusTooManyRequests) + c.Total("groups", http.StatusTooManyRequests)
}

// deriveTeams computes the Teams rates of a run whose Teams counts and
// TeamsWall are set (see TeamsHelp).
func (r *TenantRun) deriveTeams() {
	if r.TeamsRequests > 0 {
		r.MessagesPerRequest = float64(r.ChannelMessages) / float64(r.TeamsRequests)
		r.IdealMessagesPerSecond = float64(r.TeamsLimit) * r.MessagesPerRequest
	}
	if r.MessagePages > 0 {
		r.MessagesPerPage = float64(r.ChannelMessages) / float64(r.MessagePages)
	}
	if r.TeamsWall > 0 {
		r.TeamsPerSecond = float64(r.TeamsRequests) / r.TeamsWall
		r.MessagesPerSecond = float64(r.ChannelMessages) / r.TeamsWall
	}
	if r.IdealMessagesPerSecond > 0 {
		r.TeamsEfficiency = r.MessagesPerSecond / r.IdealMessagesPerSecond
	}
}
