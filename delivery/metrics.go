package delivery

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	renders  *prometheus.CounterVec   // format, outcome
	seconds  *prometheus.HistogramVec // format
	queue    prometheus.Gauge
	inFlight prometheus.Gauge
	cache    *prometheus.CounterVec   // result: hit, miss, not_modified; format
	latency  *prometheus.HistogramVec // cache: hit, miss, not_modified
	wait     prometheus.Histogram
	queueCap prometheus.Gauge
	bytesOut prometheus.Counter
	evicted  prometheus.Counter
	leases   *prometheus.CounterVec // outcome: led, waited, served, unavailable
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		renders: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgmgr_variant_renders_total",
			Help: "Variant renders by output format and outcome (ok, original, error, timeout, abandoned, rejected)."}, []string{"format", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "imgmgr_variant_render_duration_seconds",
			Help: "Time to render one variant.", Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"format"}),
		queue:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "imgmgr_variant_render_queue_depth", Help: "Renders waiting for a slot."}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "imgmgr_variant_renders_in_flight", Help: "Renders running."}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgmgr_variant_cache_requests_total",
			Help: "Variant requests by cache result (hit, miss, not_modified) and output format."}, []string{"result", "format"}),
		// The delivery latency SLOs read this one: warm (cache="hit") and
		// cold (cache="miss") requests have objectives of their own, at
		// bucket bounds (0.25 s and 2.5 s; see deploy/prometheus).
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "imgmgr_variant_request_duration_seconds",
			Help:    "Time to answer a variant request that reached the cache lookup, by cache result (hit, miss, not_modified), whatever its status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"cache"}),
		wait: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "imgmgr_variant_render_queue_wait_seconds",
			Help:    "Time a render waited in the queue for a slot.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
		queueCap: prometheus.NewGauge(prometheus.GaugeOpts{Name: "imgmgr_variant_render_queue_capacity",
			Help: "Renders that may wait for a slot before more are refused (503): the bound of imgmgr_variant_render_queue_depth."}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgmgr_variant_sent_bytes_total", Help: "Variant body bytes sent."}),
		evicted:  prometheus.NewCounter(prometheus.CounterOpts{Name: "imgmgr_variant_cache_evictions_total", Help: "Variants evicted by the size cap."}),
		leases: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgmgr_variant_render_leases_total",
			Help: "Cluster-wide render leases of cold variants by outcome: led (rendered here), waited (another replica held it), served (its result was served from the shared cache), unavailable (no lease service: rendered here)."}, []string{"outcome"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.renders, m.seconds, m.queue, m.inFlight, m.cache, m.latency, m.wait, m.queueCap, m.bytesOut, m.evicted, m.leases} {
		if err := reg.Register(c); err != nil {
			return nil, errors.Join(errors.New("delivery: metrics"), err)
		}
	}
	return m, nil
}
