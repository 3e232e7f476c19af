package httpapi

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr"
)

// HandlerFunc is a handler that returns its error; the adapter writes it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// metrics of the HTTP layer.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	received *prometheus.CounterVec
	inflight prometheus.Gauge
	ready    *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgmgr_http_requests_total",
			Help: "HTTP requests by route pattern and status."}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "imgmgr_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern.", Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12)}, []string{"route"}),
		// By route, so that upload bytes show by protocol: multipart is
		// "POST /api/v1/images", tus is "/api/v1/uploads/" and "POST /api/v1/uploads".
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "imgmgr_http_received_bytes_total",
			Help: "Request body bytes received by route pattern."}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "imgmgr_http_in_flight_requests",
			Help: "Requests being served."}),
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "imgmgr_readiness_check_up",
			Help: "1 when the readiness check of a dependency (database, storage, redis, scanner) passed at the last /readyz, else 0."}, []string{"check"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.received, m.inflight, m.ready)
	}
	return m
}

// handle registers h under pattern with the error adapter and metrics.
func (s *Server) handle(pattern string, h HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, s.adapt(pattern, h))
}

func (s *Server) adapt(route string, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		body := &countingBody{ReadCloser: r.Body}
		r.Body = body
		s.metrics.inflight.Inc()
		s.active.Add(1)
		defer s.active.Done()
		defer func() {
			p := recover()
			if p != nil && p != http.ErrAbortHandler {
				err := imgmgr.Internal("panic", fmt.Errorf("%v\n%s", p, debug.Stack()))
				if !rec.wrote {
					WriteError(rec, r, s.log, err)
				} else {
					s.log.ErrorContext(r.Context(), "panic after response started", "err", err)
				}
			}
			s.metrics.inflight.Dec()
			s.metrics.received.WithLabelValues(route).Add(float64(body.n))
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.statusCode())).Inc()
			s.metrics.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
			if p == http.ErrAbortHandler {
				panic(p) // the server aborts the connection
			}
		}()
		if err := h(rec, r); err != nil {
			if rec.wrote {
				s.log.WarnContext(r.Context(), "error after response started", "err", err)
				return
			}
			WriteError(rec, r, s.log, err)
		}
	})
}

// recorder remembers the status and whether the response started. It
// passes Flush and Hijack through for streaming and WebSockets.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("hijack not supported")
	}
	r.wrote, r.status = true, http.StatusSwitchingProtocols
	return h.Hijack()
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}
