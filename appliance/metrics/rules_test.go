package metrics_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// requirePromtoolEnv, when set (make test sets it), turns a missing promtool
// into a failure instead of a skip.
const requirePromtoolEnv = "STRONGROOM_REQUIRE_PROMTOOL"

func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err == nil {
		return p
	}
	if os.Getenv(requirePromtoolEnv) != "" {
		t.Fatalf("promtool not found and %s is set: install it with 'apt-get install prometheus' (make deps)", requirePromtoolEnv)
	}
	t.Skipf("promtool not found; install it with 'apt-get install prometheus' (make deps), or set %s to make this a failure", requirePromtoolEnv)
	return ""
}

func runPromtool(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

// TestRulesPromtool runs promtool's syntax check and the alert unit tests
// in rules/*_test.yml.
func TestRulesPromtool(t *testing.T) {
	bin := promtool(t)
	t.Run("check rules", func(t *testing.T) {
		if out, err := runPromtool(t, bin, "check", "rules", rulesPath); err != nil {
			t.Errorf("promtool check rules %s: %v\n%s", rulesPath, err, out)
		}
	})
	t.Run("test rules", func(t *testing.T) {
		args := append([]string{"test", "rules"}, ruleTestPaths...)
		if out, err := runPromtool(t, bin, args...); err != nil {
			t.Errorf("promtool test rules: %v\n%s", err, out)
		}
	})
}

// TestRulesPromtoolCatchesMissingAlert guards the harness: with one alert
// taken out of the rules, promtool test rules must fail, so a passing run
// above means the alerts really fired.
func TestRulesPromtoolCatchesMissingAlert(t *testing.T) {
	bin := promtool(t)
	rules, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	const alert = "      - alert: StrongroomDiskMissing\n"
	start := strings.Index(string(rules), alert)
	if start < 0 {
		t.Fatalf("%s has no StrongroomDiskMissing rule", rulesPath)
	}
	end := strings.Index(string(rules)[start+len(alert):], "      - alert: ")
	if end < 0 {
		t.Fatal("StrongroomDiskMissing is the last rule; pick another to remove")
	}
	broken := string(rules)[:start] + string(rules)[start+len(alert)+end:]

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "strongroom.rules.yml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(ruleTestPaths[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "strongroom.rules_test.yml"), tests, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runPromtool(t, bin, "test", "rules", filepath.Join(dir, "strongroom.rules_test.yml"))
	if err == nil {
		t.Fatalf("promtool test rules passed without StrongroomDiskMissing:\n%s", out)
	}
	if !strings.Contains(out, "StrongroomDiskMissing") {
		t.Errorf("promtool failed, but not on StrongroomDiskMissing:\n%s", out)
	}
}

// TestDashboardQueriesParse guards the dashboard's PromQL, which Grafana
// only checks when someone looks at the panel: every target is written as a
// recording rule and put through promtool check rules, with Grafana's
// variables replaced by values Prometheus accepts.
func TestDashboardQueriesParse(t *testing.T) {
	bin := promtool(t)
	vars := strings.NewReplacer("$instance", ".*", "$__rate_interval", "5m", "$__range", "1d")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for _, e := range dashboardExprs(t) {
		if strings.HasPrefix(e, "label_values(") { // a Grafana function, not PromQL
			continue
		}
		quoted, err := json.Marshal(vars.Replace(e)) // JSON strings are YAML strings
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", n, quoted)
		n++
	}
	path := filepath.Join(t.TempDir(), "dashboard.rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runPromtool(t, bin, "check", "rules", path); err != nil {
		t.Errorf("dashboard queries do not parse: %v\n%s\nrules:\n%s", err, out, b.String())
	}
	if n < 20 {
		t.Errorf("checked only %d dashboard queries", n)
	}
}
