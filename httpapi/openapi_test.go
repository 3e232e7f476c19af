package httpapi

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := New(Deps{Registry: prometheus.NewRegistry()})
	// Stale entries are routes of optional deps (uploads, mounts): the full
	// server's test in cmd/imgmgr checks both directions.
	if missing, _ := CheckOpenAPI(s.Routes()); len(missing) > 0 {
		t.Errorf("routes not in openapi.json: %v", missing)
	}
}
