package observe

import (
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterBuildInfo registers imgmgr_build_info, a gauge that is always 1
// and whose labels say what runs: version (as set at build time), revision
// (the VCS commit Go stamped into the binary, "unknown" when it was built
// without VCS information, e.g. with -buildvcs=false or by go test), the Go
// version and the libvips version. Joining on it (`* on(instance)
// group_left(version) imgmgr_build_info`) labels any series by release.
func RegisterBuildInfo(reg prometheus.Registerer, version, libvips string) error {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "imgmgr_build_info",
		Help: "Always 1; the labels name the running build: version, revision, go, libvips.",
		ConstLabels: prometheus.Labels{
			"version": version, "revision": revision(), "go": runtime.Version(), "libvips": libvips,
		},
	})
	g.Set(1)
	return reg.Register(g)
}

// revision is the vcs.revision setting of the running binary, or "unknown".
func revision() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && s.Value != "" {
				return s.Value
			}
		}
	}
	return "unknown"
}
