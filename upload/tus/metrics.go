package tus

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the tus endpoint.
type metrics struct {
	received prometheus.Counter
	uploads  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgmgr_tus_received_bytes_total",
			Help: "Upload bytes received through tus."}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgmgr_tus_uploads_total",
			Help: "tus uploads by event: created, completed, rejected, expired, terminated."}, []string{"event"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.received, m.uploads} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("tus: metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) count(event string) { m.uploads.WithLabelValues(event).Inc() }
