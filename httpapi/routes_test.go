package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Regression: the "/api/" catch-all answered every known path with a wrong
// method as 404 no_route (and without Allow), so clients could not tell a
// typo in the path from a wrong verb. A wrong method must be a JSON 405 that
// lists the allowed methods; an unknown path stays a JSON 404.
func TestUnmatchedAPIRoutesAnswerJSON(t *testing.T) {
	s := New(Deps{Registry: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	for _, c := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"PUT", "/api/v1/images", 405, "method_not_allowed", "GET, HEAD"},
		{"POST", "/api/v1/images/abc/original", 405, "method_not_allowed", "GET, HEAD"},
		{"PUT", "/api/v1/images/abc", 405, "method_not_allowed", "DELETE, GET, HEAD, PATCH"},
		{"GET", "/api/v1/auth/login", 405, "method_not_allowed", "POST"},
		{"GET", "/api/v2/nothing", 404, "no_route", ""},
		{"DELETE", "/api/v1/nothing/here", 404, "no_route", ""},
	} {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(c.method, c.path, nil))
		var body ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Errorf("%s %s: body is not JSON: %q", c.method, c.path, w.Body)
			continue
		}
		if w.Code != c.status || body.Error.Code != c.code || w.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d %q Allow %q, want %d %q Allow %q", c.method, c.path, w.Code, body.Error.Code,
				w.Header().Get("Allow"), c.status, c.code, c.allow)
		}
	}
}

// Regression: the adapter re-panicked http.ErrAbortHandler before its
// deferred bookkeeping, so every aborted request left the in-flight gauge
// one higher for ever (and went uncounted).
func TestAbortedRequestLeavesNoInFlight(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := New(Deps{Registry: reg, Logger: slog.New(slog.DiscardHandler), Mounts: []Mount{{
		Pattern: "GET /api/v1/abort",
		Handler: func(w http.ResponseWriter, r *http.Request) error { panic(http.ErrAbortHandler) },
	}}})
	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler passed on", p)
			}
		}()
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/abort", nil))
	}()
	var m dto.Metric
	if err := s.metrics.inflight.Write(&m); err != nil || m.GetGauge().GetValue() != 0 {
		t.Errorf("in-flight gauge = %v (%v) after the request ended, want 0", m.GetGauge().GetValue(), err)
	}
	if err := s.metrics.requests.WithLabelValues("GET /api/v1/abort", "200").Write(&m); err != nil || m.GetCounter().GetValue() != 1 {
		t.Errorf("aborted request counted %v times (%v), want 1", m.GetCounter().GetValue(), err)
	}
}

// Regression: with CORS on, only responses to allowed origins carried
// Vary: Origin, so a browser cache could keep an original fetched by an
// <img> (no Origin, no Access-Control-Allow-Origin) and replay it to a
// fetch() from the UI's origin, which then failed CORS. Every response
// must vary on Origin once CORS is enabled.
func TestCORSVariesOnOriginAlways(t *testing.T) {
	h := withCORS([]string{"https://app.example"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, origin := range []string{"", "https://app.example", "https://other.example"} {
		r := httptest.NewRequest("GET", "/api/v1/images/x/original", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Header().Values("Vary"); len(got) != 1 || got[0] != "Origin" {
			t.Errorf("Origin %q: Vary %q, want [Origin]", origin, got)
		}
	}
}
