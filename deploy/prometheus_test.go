// Package deploy holds the deployment files (container, Compose,
// Kubernetes, Prometheus rules, Grafana dashboard); its tests check the
// ones that can be checked: the rules with promtool, the dashboard against
// the metrics the server exports.
package deploy

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// ruleFiles are the Prometheus rule files, relative to this directory.
var ruleFiles = []string{"prometheus/slo.rules.yml", "prometheus/alerts.rules.yml"}

// TestPrometheusRules runs `promtool check rules` (syntax, PromQL, names),
// `promtool check config` on the example configuration, and `promtool test rules` (the unit tests in prometheus/tests: each
// alert fires when it must and stays silent when it must not). Without
// promtool the test is skipped, and fails under CI=true.
func TestPrometheusRules(t *testing.T) {
	promtool := testenv.Promtool(t)
	run := func(args ...string) {
		t.Helper()
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %v: %v\n%s", args, err, out)
		}
		t.Logf("promtool %v:\n%s", args, out)
	}
	run(append([]string{"check", "rules"}, ruleFiles...)...)
	run("check", "config", "--syntax-only", "prometheus/prometheus.yml")
	tests, err := filepath.Glob("prometheus/tests/*.test.yml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no rule tests in prometheus/tests (%v)", err)
	}
	run(append([]string{"test", "rules"}, tests...)...)
}
