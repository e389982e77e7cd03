package metrics_test

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	yaml "go.yaml.in/yaml/v3"

	"github.com/strongroom/strongroom/appliance/metrics"
	"github.com/strongroom/strongroom/storage/offsite"
	"github.com/strongroom/strongroom/storage/vault"
)

const (
	rulesPath     = "rules/strongroom.rules.yml"
	dashboardPath = "dashboards/strongroom.json"
)

var ruleTestPaths = []string{"rules/strongroom.rules_test.yml", "rules/strongroom.rules_days_test.yml"}

// ruleFile is the part of a Prometheus rules file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	} `yaml:"groups"`
}

type rule struct {
	Alert       string            `yaml:"alert"`
	Record      string            `yaml:"record"`
	Expr        string            `yaml:"expr"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func readRules(t *testing.T) []rule {
	t.Helper()
	var f ruleFile
	if err := yaml.Unmarshal(metrics.Rules(), &f); err != nil {
		t.Fatalf("parse %s: %v", rulesPath, err)
	}
	var rules []rule
	for _, g := range f.Groups {
		rules = append(rules, g.Rules...)
	}
	if len(rules) == 0 {
		t.Fatalf("%s has no rules", rulesPath)
	}
	return rules
}

// dashboardExprs returns every PromQL string in the dashboard: panel
// targets (expr) and template variable queries (definition).
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	var doc any
	if err := json.Unmarshal(metrics.Dashboard(), &doc); err != nil {
		t.Fatalf("parse %s: %v", dashboardPath, err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	return exprs
}

var metricName = regexp.MustCompile(`\bstrongroom_[a-z0-9_]+`)

// TestRulesAndDashboardUseExportedMetrics guards the contract between the
// agent and what watches it: every strongroom_* name an alert or a panel
// queries is exported by an agent whose every method has been called.
func TestRulesAndDashboardUseExportedMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "1.2.3", metrics.WithNow(func() time.Time { return testNow }),
		metrics.WithVaultStatus(func() (vault.Status, error) { return healthyStatus(), nil }),
		metrics.WithOffsiteStatus(func() (offsite.Status, error) { return sampleOffsiteStatus(), nil }))
	exercise(m)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	exported := map[string]bool{}
	for _, mf := range mfs {
		exported[mf.GetName()] = true
		if mf.GetType().String() == "HISTOGRAM" {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				exported[mf.GetName()+suffix] = true
			}
		}
	}

	used := map[string][]string{} // metric name -> where it is used
	for _, r := range readRules(t) {
		for _, n := range metricName.FindAllString(r.Expr, -1) {
			used[n] = append(used[n], "rule "+r.Alert+r.Record)
		}
	}
	exprs := dashboardExprs(t)
	if len(exprs) == 0 {
		t.Fatalf("%s has no queries", dashboardPath)
	}
	for _, e := range exprs {
		for _, n := range metricName.FindAllString(e, -1) {
			used[n] = append(used[n], "dashboard")
		}
	}
	var names []string
	for n := range used {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !exported[n] {
			t.Errorf("%s is used by %s but not exported", n, strings.Join(slices.Compact(used[n]), ", "))
		}
	}
	// The check above is only worth something if it saw the metrics; a
	// broken regexp or walk would pass vacuously.
	if len(names) < 25 {
		t.Errorf("found only %d distinct metric names in rules and dashboard: %q", len(names), names)
	}
}

// wantAlerts are the alerts issue 6 asks for, plus StrongroomVaultStatusError.
var wantAlerts = []string{
	"StrongroomAgentDown",
	"StrongroomBackupFailing",
	"StrongroomBackupStale",
	"StrongroomCapacityCritical",
	"StrongroomCapacityNearlyFull",
	"StrongroomClockJumpPending",
	"StrongroomDiskMissing",
	"StrongroomHeavyThrottling",
	"StrongroomOffsiteBehind",
	"StrongroomOffsiteFailing",
	"StrongroomRestoreTestFailed",
	"StrongroomScrubErrors",
	"StrongroomScrubStale",
	"StrongroomUnprotectedUnits",
	"StrongroomVaultDegraded",
	"StrongroomVaultStatusError",
	"StrongroomWardenAlert",
}

// TestRulesAlertsComplete guards that every alert exists and tells the
// operator how bad it is and what to do.
func TestRulesAlertsComplete(t *testing.T) {
	var got []string
	for _, r := range readRules(t) {
		if r.Alert == "" {
			continue
		}
		got = append(got, r.Alert)
		switch r.Labels["severity"] {
		case "critical", "warning":
		default:
			t.Errorf("%s: severity %q, want critical or warning", r.Alert, r.Labels["severity"])
		}
		for _, a := range []string{"summary", "description"} {
			if strings.TrimSpace(r.Annotations[a]) == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		// A description that names the fix quotes a command or a console
		// action.
		if !strings.Contains(r.Annotations["description"], `"`) {
			t.Errorf("%s: description names no command or console action: %q", r.Alert, r.Annotations["description"])
		}
	}
	got = slices.Compact(slices.Sorted(slices.Values(got)))
	if !slices.Equal(got, wantAlerts) {
		t.Errorf("alerts\n got: %q\nwant: %q", got, wantAlerts)
	}
}

// ruleTestFile is the part of a promtool test file the tests read.
type ruleTestFile struct {
	Tests []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			Alertname string `yaml:"alertname"`
			ExpAlerts []any  `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestRulesEveryAlertTested guards the promtool tests themselves: each
// alert has a case where it fires and one where it stays silent.
func TestRulesEveryAlertTested(t *testing.T) {
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, p := range ruleTestPaths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f ruleTestFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			t.Fatalf("parse %s: %v", p, err)
		}
		for _, tc := range f.Tests {
			for _, a := range tc.AlertRuleTest {
				if len(a.ExpAlerts) > 0 {
					fires[a.Alertname] = true
				} else {
					silent[a.Alertname] = true
				}
			}
		}
	}
	for _, a := range wantAlerts {
		if !fires[a] {
			t.Errorf("%s has no promtool case where it fires", a)
		}
		if !silent[a] {
			t.Errorf("%s has no promtool case where it stays silent", a)
		}
	}
}

// TestDashboard guards what provisioning and links rely on: the uid, a
// Prometheus datasource variable, and the embedded copies.
func TestDashboard(t *testing.T) {
	var d struct {
		UID        string `json:"uid"`
		Title      string `json:"title"`
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Type  string `json:"type"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			Title      string `json:"title"`
			Type       string `json:"type"`
			Datasource *struct {
				Type string `json:"type"`
				UID  string `json:"uid"`
			} `json:"datasource"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(metrics.Dashboard(), &d); err != nil {
		t.Fatal(err)
	}
	if d.UID != metrics.DashboardUID {
		t.Errorf("uid %q, want %q", d.UID, metrics.DashboardUID)
	}
	hasDS := false
	for _, v := range d.Templating.List {
		if v.Name == "datasource" && v.Type == "datasource" && v.Query == "prometheus" {
			hasDS = true
		}
	}
	if !hasDS {
		t.Error("no datasource variable of type prometheus")
	}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the datasource variable", p.Title)
		}
	}

	var ds struct {
		Datasources []struct {
			Type string `yaml:"type"`
			UID  string `yaml:"uid"`
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(metrics.DatasourceProvisioning(), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
		t.Errorf("datasource provisioning: %+v, want one prometheus datasource", ds.Datasources)
	}
	var prov struct {
		Providers []struct {
			Type    string            `yaml:"type"`
			Options map[string]string `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(metrics.DashboardProvisioning(), &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Providers) != 1 || prov.Providers[0].Type != "file" || prov.Providers[0].Options["path"] == "" {
		t.Errorf("dashboard provisioning: %+v, want one file provider with a path", prov.Providers)
	}
}

// TestEmbeddedAssetsMatchFiles guards that the binary prints the files in
// the repository, and that callers get their own copy.
func TestEmbeddedAssetsMatchFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
		get  func() []byte
	}{
		{"rules", rulesPath, metrics.Rules},
		{"dashboard", dashboardPath, metrics.Dashboard},
		{"dashboard provisioning", "dashboards/provisioning/dashboards.yml", metrics.DashboardProvisioning},
		{"datasource provisioning", "dashboards/provisioning/datasources.yml", metrics.DatasourceProvisioning},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got := tc.get()
			if !bytes.Equal(got, file) {
				t.Fatalf("embedded %s differs from %s", tc.name, tc.path)
			}
			got[0] ^= 0xff
			if !bytes.Equal(tc.get(), file) {
				t.Errorf("changing the returned %s changed the embedded copy", tc.name)
			}
		})
	}
}
