package cdn

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr/meta"
)

// Metrics of the CDN machinery: imgmgr_cdn_tasks{provider,kind,state}
// (read from the store at each scrape), imgmgr_cdn_vendor_requests_total
// {provider,op,status} and imgmgr_cdn_task_duration_seconds{provider,kind}
// from trigger to done. A nil *Metrics records nothing.
type Metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics registers the metrics on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer, store meta.CDNTasks) (*Metrics, error) {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgmgr_cdn_vendor_requests_total",
			Help: "CDN vendor API requests by provider, operation and answer (ok, an HTTP status, or network)."},
			[]string{"provider", "op", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "imgmgr_cdn_task_duration_seconds",
			Help:    "Time from the trigger of a CDN task (purge or prefetch) to its completion.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600}},
			[]string{"provider", "kind"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.latency, &taskGauge{store: store}} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *Metrics) request(provider, op string, err error) {
	if m == nil {
		return
	}
	status := "ok"
	var e *Error
	if errors.As(err, &e) && e.Status != 0 {
		status = strconv.Itoa(e.Status)
	} else if err != nil {
		status = "network"
	}
	m.requests.WithLabelValues(provider, op, status).Inc()
}

func (m *Metrics) observeDone(t meta.CDNTask, now time.Time) {
	if m == nil {
		return
	}
	m.latency.WithLabelValues(t.Provider, t.Kind).Observe(now.Sub(t.CreatedAt).Seconds())
}

var taskDesc = prometheus.NewDesc("imgmgr_cdn_tasks", "CDN tasks by provider, kind and state.",
	[]string{"provider", "kind", "state"}, nil)

// taskGauge reads the task counts from the store when scraped, so that
// every replica reports the shared truth.
type taskGauge struct{ store meta.CDNTasks }

func (g *taskGauge) Describe(ch chan<- *prometheus.Desc) { ch <- taskDesc }

func (g *taskGauge) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := g.store.CountCDNTasks(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(taskDesc, err)
		return
	}
	for _, c := range counts {
		ch <- prometheus.MustNewConstMetric(taskDesc, prometheus.GaugeValue, float64(c.N), c.Provider, c.Kind, c.State)
	}
}
