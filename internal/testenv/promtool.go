package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Promtool returns the path of Prometheus' promtool: IMGMGR_TEST_PROMTOOL
// (scripts/services.sh builds it once and sets it), else promtool on PATH.
func Promtool(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("IMGMGR_TEST_PROMTOOL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			missing(t, "promtool at IMGMGR_TEST_PROMTOOL="+p)
		}
		return p
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		missing(t, "promtool (IMGMGR_TEST_PROMTOOL or PATH)")
	}
	return p
}
