package agent

import (
	"github.com/strongroom/strongroom/appliance/config"
	"github.com/strongroom/strongroom/appliance/workloads"
	"github.com/strongroom/strongroom/appliance/workloads/exchange"
	"github.com/strongroom/strongroom/appliance/workloads/groups"
	"github.com/strongroom/strongroom/appliance/workloads/onedrive"
	"github.com/strongroom/strongroom/appliance/workloads/sharepoint"
	"github.com/strongroom/strongroom/appliance/workloads/teams"
)

// registered lists the workloads every backup run covers, in the order
// reports show them. A new workload is one more line here.
func registered(_ *config.Config) []workloads.Workload {
	return []workloads.Workload{
		exchange.Workload{Options: exchange.Options{IncludeContacts: true, IncludeCalendars: true}},
		onedrive.Workload{},
		sharepoint.Workload{},
		teams.Workload{},
		groups.Workload{},
	}
}

// teamsPerSecond is the rate Graph documents for channel messages per app
// and tenant, which the governor paces Teams and group requests to.
const teamsPerSecond = 20

// teamsPace is the Teams pace of cfg: none when pacing is turned off
// (resource_units_per_minute: -1), Graph's documented rate otherwise.
func teamsPace(cfg *config.Config) int {
	if cfg.ResourceUnits < 0 {
		return 0
	}
	return teamsPerSecond
}
