package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/observe"
)

// withRequestID gives every request an id, in its context (for logs) and
// in the X-Request-Id response header. A sane incoming id is kept.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(observe.WithRequestID(r.Context(), id)))
	})
}

func saneID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// withAccessLog logs one line per request.
func (s *Server) withAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		s.log.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path,
			"status", rec.statusCode(), "duration_ms", time.Since(start).Milliseconds(), "remote", r.RemoteAddr)
	})
}

// withSecurityHeaders sets the headers every response carries.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/api/") && !strings.HasPrefix(r.URL.Path, "/img/") {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "+
				"connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'")
		}
		next.ServeHTTP(w, r)
	})
}

// authed requires a valid bearer token or API key and puts the principal
// in the request context.
func (s *Server) authed(h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="imgmgr"`)
			return err
		}
		if err := s.apiLimited(w, r, p); err != nil {
			return err
		}
		return h(w, r.WithContext(imgmgr.WithPrincipal(r.Context(), p)))
	}
}

// optionalAuth authenticates a request that carries credentials (bad ones
// are refused) and lets one without through anonymously.
func (s *Server) optionalAuth(h HandlerFunc) HandlerFunc {
	authed := s.authed(h)
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.Header.Get("Authorization") != "" {
			return authed(w, r)
		}
		return h(w, r)
	}
}

// adminOnly requires the admin role on top of authed.
func (s *Server) adminOnly(h HandlerFunc) HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request) error {
		if p := principal(r); !p.IsAdmin() {
			return imgmgr.Errorf(imgmgr.KindPermission, "forbidden", "this needs the admin role")
		}
		return h(w, r)
	})
}

func (s *Server) authenticate(r *http.Request) (imgmgr.Principal, error) {
	authz := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(authz, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return imgmgr.Principal{}, imgmgr.Errorf(imgmgr.KindUnauthenticated, "unauthenticated", "an Authorization: Bearer token or API key is required")
	}
	return s.deps.Auth.Authenticate(r.Context(), strings.TrimSpace(tok))
}

func principal(r *http.Request) imgmgr.Principal {
	p, _ := imgmgr.PrincipalFrom(r.Context())
	return p
}
