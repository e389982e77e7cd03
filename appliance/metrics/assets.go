package metrics

import (
	"bytes"
	_ "embed" // for the go:embed directives below
)

//go:embed rules/strongroom.rules.yml
var rules []byte

//go:embed dashboards/strongroom.json
var dashboard []byte

//go:embed dashboards/provisioning/dashboards.yml
var dashboardProvisioning []byte

//go:embed dashboards/provisioning/datasources.yml
var datasourceProvisioning []byte

// DashboardUID is the uid of the Grafana dashboard; links and provisioning
// rely on it not changing.
const DashboardUID = "strongroom-overview"

// Rules returns the Prometheus alerting rules file for the agent's metrics,
// ready to be written to a rule_files path. The caller owns the copy.
func Rules() []byte { return bytes.Clone(rules) }

// Dashboard returns the Grafana dashboard JSON (uid DashboardUID). The
// caller owns the copy.
func Dashboard() []byte { return bytes.Clone(dashboard) }

// DashboardProvisioning returns a Grafana dashboard provider file that loads
// the dashboard from /var/lib/grafana/dashboards/strongroom.
func DashboardProvisioning() []byte { return bytes.Clone(dashboardProvisioning) }

// DatasourceProvisioning returns a Grafana datasource file for a Prometheus
// server at http://localhost:9090 with uid "prometheus", the datasource the
// dashboard uses.
func DatasourceProvisioning() []byte { return bytes.Clone(datasourceProvisioning) }
