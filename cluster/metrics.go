package cluster

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the Redis client and its users.
type metrics struct {
	open         prometheus.Gauge
	trips        prometheus.Counter
	flushFailed  prometheus.Counter
	viewsDropped prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "imgmgr_redis_breaker_open",
			Help: "1 while Redis is unreachable and calls to it fail fast."}),
		trips: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgmgr_redis_breaker_trips_total",
			Help: "Times the Redis circuit breaker opened."}),
		flushFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgmgr_views_flush_failures_total",
			Help: "Batches of view counts that could not be written to Redis."}),
		viewsDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "imgmgr_views_dropped_total",
			Help: "Views not counted: the buffer was full or a flush failed."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.open, m.trips, m.flushFailed, m.viewsDropped} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("cluster: metrics: %w", err)
			}
		}
	}
	return m, nil
}
