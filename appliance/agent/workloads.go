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
