package httpapi

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/ratelimit"
)

// Limits are the rate limits the HTTP layer applies. Nil limiters are off.
// Per-principal limiters are chosen by role (a missing role uses
// imgmgr.RoleUser's), so admins can be given more room.
type Limits struct {
	Proxies   *ratelimit.TrustedProxies // whose X-Forwarded-For is believed; nil: none
	PerIP     ratelimit.Limiter         // every /api request, per client IP
	API       map[imgmgr.Role]ratelimit.Limiter
	Uploads   map[imgmgr.Role]ratelimit.Limiter // upload requests (multipart POST, tus POST/PATCH)
	UploadMiB map[imgmgr.Role]ratelimit.Limiter // upload bytes, in MiB (of Content-Length, or as read when chunked)
	Login     ratelimit.Limiter                 // login attempts per client IP
	Lockout   *ratelimit.Lockout                // growing delay after failed logins per username+IP
	Renders   ratelimit.Limiter                 // variant renders that miss the cache, per client IP
	FailOpen  bool                              // allow requests when the limiter store (Redis) fails
}

// ClientIP is the request's client address: the peer, or the right-most
// untrusted X-Forwarded-For hop when the peer is a trusted proxy.
func (s *Server) ClientIP(r *http.Request) string {
	p := s.deps.Limits.Proxies
	if p == nil {
		p = noProxies
	}
	return ratelimit.IPKey(p.ClientIP(r))
}

// noProxies trusts nobody: the peer is the client.
var noProxies, _ = ratelimit.NewTrustedProxies(nil)

// take asks l for cost tokens of key and sets the RateLimit headers.
func (s *Server) take(ctx context.Context, w http.ResponseWriter, l ratelimit.Limiter, key string, cost int) error {
	if l == nil {
		return nil
	}
	d, err := l.Allow(ctx, key, cost)
	if err != nil {
		if imgmgr.KindOf(err) == imgmgr.KindTooLarge {
			return err
		}
		if s.deps.Limits.FailOpen {
			s.log.WarnContext(ctx, "rate limiter unavailable; allowing (fail-open)", "err", err)
			return nil
		}
		return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "rate_limiter_unavailable", Message: "try again shortly", Err: err}
	}
	ratelimit.WriteHeaders(w.Header(), d)
	return d.Err()
}

func byRole(m map[imgmgr.Role]ratelimit.Limiter, r imgmgr.Role) ratelimit.Limiter {
	if l, ok := m[r]; ok {
		return l
	}
	return m[imgmgr.RoleUser]
}

// principalKey keys per-principal buckets: an API key has its own.
func principalKey(p imgmgr.Principal) string {
	if p.APIKeyID != "" {
		return "k:" + p.APIKeyID
	}
	return "u:" + p.UserID
}

// withIPLimit applies the per-IP limit to /api requests.
func (s *Server) withIPLimit(next http.Handler) http.Handler {
	if s.deps.Limits.PerIP == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if err := s.take(r.Context(), w, s.deps.Limits.PerIP, "ip:"+s.ClientIP(r), 1); err != nil {
				WriteError(w, r, s.log, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// apiLimited applies the per-principal API limit (inside authed).
func (s *Server) apiLimited(w http.ResponseWriter, r *http.Request, p imgmgr.Principal) error {
	return s.take(r.Context(), w, byRole(s.deps.Limits.API, p.Role), principalKey(p), 1)
}

// uploadLimited applies the upload request and byte limits to requests
// that carry upload bytes (a POST or PATCH with a body): a bodiless tus
// creation, a HEAD or a termination costs no upload token. A sized body
// pays its MiB of Content-Length before it is read; a body of unknown
// length (chunked) pays one MiB up front and then each MiB as it arrives
// (meteredBody), so chunked uploads spend the budget like sized ones
// (issue 10, item 1: they were charged 1 MiB whatever they carried).
func (s *Server) uploadLimited(h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if (r.Method != http.MethodPost && r.Method != http.MethodPatch) || r.ContentLength == 0 {
			return h(w, r)
		}
		p := principal(r)
		key := principalKey(p)
		if err := s.take(r.Context(), w, byRole(s.deps.Limits.Uploads, p.Role), key, 1); err != nil {
			return err
		}
		bytes := byRole(s.deps.Limits.UploadMiB, p.Role)
		mib := 1
		if r.ContentLength > 0 {
			mib = int((r.ContentLength + 1<<20 - 1) >> 20)
		}
		if err := s.take(r.Context(), w, bytes, key, mib); err != nil {
			return err
		}
		if r.ContentLength > 0 || bytes == nil {
			return h(w, r) // the server reads no more than Content-Length
		}
		mb := &meteredBody{ReadCloser: r.Body, paid: 1 << 20,
			take: func(n int) error { return s.take(r.Context(), w, bytes, key, n) }}
		r.Body = mb
		err := h(w, r)
		if err != nil && mb.refused != nil {
			return mb.refused // the handler saw a broken body; the cause is the budget
		}
		return err
	}
}

// meteredBody charges the byte budget for a body of unknown length as it
// is read: whenever more has arrived than was paid for, it takes the
// missing MiB. When the budget refuses, that Read and every later one fail
// with the refusal (429 with Retry-After), and the bytes of that Read are
// not handed on.
type meteredBody struct {
	io.ReadCloser
	take    func(mib int) error
	read    int64 // bytes read from the body
	paid    int64 // bytes paid for, whole MiB
	refused error
}

func (b *meteredBody) Read(p []byte) (int, error) {
	if b.refused != nil {
		return 0, b.refused
	}
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if b.read > b.paid {
		mib := int((b.read - b.paid + 1<<20 - 1) >> 20)
		if terr := b.take(mib); terr != nil {
			b.refused = terr
			return 0, terr
		}
		b.paid += int64(mib) << 20
	}
	return n, err
}

// RenderGate is called by delivery before a render that missed the cache.
func (s *Server) RenderGate(r *http.Request) error {
	return s.take(r.Context(), noHeaders{}, s.deps.Limits.Renders, "ip:"+s.ClientIP(r), 1)
}

// noHeaders swallows headers for gates that cannot set them any more.
type noHeaders struct{ http.ResponseWriter }

func (noHeaders) Header() http.Header { return http.Header{} }
