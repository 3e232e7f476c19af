package tus

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the tus endpoint.
type metrics struct {
	received prometheus.Counter
	uploads  *prometheus.CounterVec
	inFlight prometheus.Gauge
	duration prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgmgr_tus_received_bytes_total",
			Help: "Upload bytes received through tus."}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgmgr_tus_uploads_total",
			Help: "tus uploads by event: created, completed, rejected, expired, terminated."}, []string{"event"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "imgmgr_tus_uploads_in_flight",
			Help: "tus uploads receiving a PATCH on this replica now."}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "imgmgr_tus_upload_duration_seconds",
			Help:    "Time from a tus upload's creation to its completion (the image recorded), across all its PATCHes and replicas.",
			Buckets: []float64{.1, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400}}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.received, m.uploads, m.inFlight, m.duration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("tus: metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *metrics) count(event string) { m.uploads.WithLabelValues(event).Inc() }
