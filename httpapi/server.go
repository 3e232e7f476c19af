// Package httpapi is the HTTP surface: routes on a net/http ServeMux,
// middleware, authentication, JSON, and the one table from error kind to
// status. Handlers are thin: decode, call one service method, encode.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/auth"
	"github.com/imgmgr/imgmgr/images"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/upload"
)

// Checker is something readiness asks: a store, a cache, a scanner.
type Checker interface {
	Ping(ctx context.Context) error
}

// URLSigner signs variant URLs for an image (delivery).
type URLSigner interface {
	SignImage(im *imgmgr.Image, options, ext string, expiresIn time.Duration) (string, error)
}

// Mount is a route served by another package's handler, e.g. variants or tus.
type Mount struct {
	Pattern string      // ServeMux pattern, e.g. "GET /img/"
	Handler HandlerFunc // errors are written by the adapter
	Auth    bool        // require a bearer token or API key
	Upload  bool        // POST/PATCH carry upload bytes: upload rate limits apply
}

// Deps are the services behind the routes.
type Deps struct {
	Auth        *auth.Service
	Images      *images.Service
	Meta        meta.Store
	Upload      *upload.Multipart // POST /api/v1/images
	Signer      URLSigner         // POST /api/v1/images/{id}/urls; may be nil
	CDN         CDNService        // /api/v1/cdn/...; nil answers 404 cdn_not_configured
	Ready       map[string]Checker
	Mounts      []Mount
	UI          http.Handler // "/" (may be nil)
	CORSOrigins []string     // allowed browser origins; "*" = any
	Limits      Limits       // rate limits; the zero value applies none
	// PublicOriginals serves public images' originals (without location
	// tags) to anyone, signed in or not.
	PublicOriginals bool
	MinRate         MinRate // slowest accepted request body; zero = no check
	MinResponseRate MinRate // slowest reader a response waits for; zero = no check
	Registry        *prometheus.Registry
	Logger          *slog.Logger
}

// Server is the HTTP handler of imgmgr.
type Server struct {
	deps     Deps
	mux      *http.ServeMux
	log      *slog.Logger
	metrics  *metrics
	handler  http.Handler
	active   sync.WaitGroup // handlers running, for a clean shutdown
	patterns []string       // every registered pattern, for the OpenAPI check
}

// Routes lists the registered ServeMux patterns.
func (s *Server) Routes() []string { return s.patterns }

// New builds the routes.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	s := &Server{deps: d, mux: http.NewServeMux(), log: d.Logger, metrics: newMetrics(d.Registry)}
	s.routes()
	s.handler = withRequestID(s.withAccessLog(withSecurityHeaders(withCORS(d.CORSOrigins, s.withIPLimit(withMinRate(d.MinRate, withMinResponseRate(d.MinResponseRate, s.mux)))))))
	return s
}

// Wait blocks until every handler has returned or ctx ends, so stores are
// not closed under a request that outlived the server's drain bound.
func (s *Server) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes() {
	s.handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	})
	s.handle("GET /readyz", s.readyz)
	if s.deps.Registry != nil {
		s.patterns = append(s.patterns, "GET /metrics")
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{}))
	}

	s.handle("GET /api/v1/openapi.json", s.openapi)
	s.handle("POST /api/v1/auth/login", s.login)
	s.handle("POST /api/v1/auth/refresh", s.refresh)
	s.handle("POST /api/v1/auth/logout", s.logout)
	s.handle("GET /api/v1/me", s.authed(s.me))

	s.handle("GET /api/v1/users", s.adminOnly(s.listUsers))
	s.handle("POST /api/v1/users", s.adminOnly(s.createUser))
	s.handle("GET /api/v1/users/{id}", s.adminOnly(s.getUser))
	s.handle("PATCH /api/v1/users/{id}", s.authed(s.updateUser))
	s.handle("DELETE /api/v1/users/{id}", s.adminOnly(s.deleteUser))
	s.handle("GET /api/v1/apikeys", s.authed(s.listAPIKeys))
	s.handle("POST /api/v1/apikeys", s.authed(s.createAPIKey))
	s.handle("DELETE /api/v1/apikeys/{id}", s.authed(s.deleteAPIKey))

	if s.deps.Upload != nil {
		s.handle("POST /api/v1/images", s.authed(s.uploadLimited(s.uploadImages)))
	}
	s.handle("GET /api/v1/images", s.authed(s.listImages))
	s.handle("POST /api/v1/images/batch", s.authed(s.batchImages))
	s.handle("GET /api/v1/images/{id}", s.authed(s.getImage))
	s.handle("PATCH /api/v1/images/{id}", s.authed(s.updateImage))
	s.handle("DELETE /api/v1/images/{id}", s.authed(s.deleteImage))
	s.handle("GET /api/v1/images/{id}/original", s.optionalAuth(s.original))
	if s.deps.Signer != nil {
		s.handle("POST /api/v1/images/{id}/urls", s.authed(s.signURLs))
		s.handle("POST /api/v1/images/urls", s.authed(s.signURLsBatch))
	}
	s.handle("GET /api/v1/albums", s.authed(s.listAlbums))
	s.handle("POST /api/v1/albums", s.authed(s.createAlbum))
	s.handle("PATCH /api/v1/albums/{id}", s.authed(s.renameAlbum))
	s.handle("DELETE /api/v1/albums/{id}", s.authed(s.deleteAlbum))
	s.handle("GET /api/v1/tags", s.authed(s.listTags))
	s.handle("GET /api/v1/stats", s.authed(s.stats))
	s.handle("POST /api/v1/cdn/purge", s.adminOnly(s.cdnPurge))
	s.handle("POST /api/v1/cdn/prefetch", s.adminOnly(s.cdnPrefetch))
	s.handle("GET /api/v1/cdn/tasks", s.adminOnly(s.cdnTasks))
	s.handle("GET /api/v1/cdn/tasks/{id}", s.adminOnly(s.cdnTask))

	for _, m := range s.deps.Mounts {
		h := m.Handler
		if m.Upload {
			h = s.uploadLimited(h)
		}
		if m.Auth {
			h = s.authed(h)
		}
		s.handle(m.Pattern, h)
	}
	s.handle("/api/", s.noRoute)
	if s.deps.UI != nil {
		s.mux.Handle("/", s.deps.UI)
	}
}

// noRoute answers API paths no pattern serves: a JSON 405 with Allow when
// the path is served for other methods, else a JSON 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range []string{"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return errNoRoute
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, ErrorBody{Error: ErrorDetail{Code: "method_not_allowed",
		Message: r.Method + " is not allowed here; use " + strings.Join(allow, ", ")}})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	status, code := map[string]string{}, http.StatusOK
	for name, c := range s.deps.Ready {
		if err := c.Ping(ctx); err != nil {
			status[name], code = "unavailable", http.StatusServiceUnavailable
			s.log.WarnContext(ctx, "readiness check failed", "component", name, "err", err)
			s.metrics.ready.WithLabelValues(name).Set(0)
		} else {
			status[name] = "ok"
			s.metrics.ready.WithLabelValues(name).Set(1)
		}
	}
	writeJSON(w, code, status)
	return nil
}
