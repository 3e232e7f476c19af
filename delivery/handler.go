package delivery

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/httpapi/vary"
	"github.com/imgmgr/imgmgr/variant"
)

const maxAge = 365 * 24 * time.Hour

// ServeVariant answers GET and HEAD /img/{signature}/{options}/{id}[.ext].
// Client errors come back as *imgmgr.Error (400 bad option, 403 bad
// signature, 404, 410 expired, 422 result too large, 503 busy).
func (s *Service) ServeVariant(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return imgmgr.Errorf(imgmgr.KindInvalid, "method_not_allowed", "use GET or HEAD")
	}
	start, cache := time.Now(), ""
	defer func() {
		if cache != "" {
			s.m.latency.WithLabelValues(cache).Observe(time.Since(start).Seconds())
		}
	}()
	ctx := r.Context()
	req, err := s.parseRequest(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	im, remembered, err := s.findImage(ctx, req.imageID)
	if err != nil {
		return err
	}
	if err := authorize(req, im); err != nil {
		return err
	}
	accept := r.Header.Get("Accept")
	t := s.target(req, im, accept)
	h := w.Header()
	if t.negotiated {
		vary.Add(h, "Accept") // merged: CORS has added Origin
	}
	h.Set("ETag", `"`+t.key+`"`)
	h.Set("Cache-Control", s.cacheControl(req.opts.Expires))
	s.setTags(h, im)
	s.urls.record(ctx, s, im.ID, r.URL.EscapedPath(), req.format == "")
	if etagMatch(r.Header.Get("If-None-Match"), t.key) {
		cache = "not_modified"
		s.m.cache.WithLabelValues(cache, t.format).Inc()
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if body, ctype, size, ok := s.cached(ctx, t.key); ok {
		defer body.Close()
		cache = "hit"
		s.m.cache.WithLabelValues(cache, t.format).Inc()
		return s.send(w, r, ctype, size, body)
	}
	cache = "miss"
	s.m.cache.WithLabelValues(cache, t.format).Inc()
	if remembered { // the metadata store is down: serve the cache only
		return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "database_unavailable",
			Message: "this variant cannot be made right now; try again shortly", RetryAfter: s.cfg.RetryAfter}
	}
	if s.deps.RenderGate != nil {
		if err := s.deps.RenderGate(r); err != nil {
			return err
		}
	}
	res, err := s.pool.do(ctx, t.key, t.format, s.cfg.RetryAfter, func(rctx contextT) (*rendered, error) {
		return s.renderOnce(rctx, im, req.opts, t, accept)
	})
	if err != nil {
		return err
	}
	return s.send(w, r, res.contentType, int64(len(res.body)), io.NopCloser(bytes.NewReader(res.body)))
}

// send writes the body with its exact type and length (no body for HEAD).
func (s *Service) send(w http.ResponseWriter, r *http.Request, ctype string, size int64, body io.Reader) error {
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Length", strconv.FormatInt(size, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	n, err := io.Copy(w, body)
	s.m.bytesOut.Add(float64(n))
	if err != nil {
		return imgmgr.Wrap("delivery.send", fmt.Errorf("after %d bytes: %w", n, err))
	}
	return nil
}

// cacheControl is a year, immutable, or up to the URL's expiry.
func (s *Service) cacheControl(expires int64) string {
	age := maxAge
	if expires != 0 {
		age = min(age, max(time.Unix(expires, 0).Sub(s.now()), 0))
	}
	return fmt.Sprintf("public, max-age=%d, immutable", int64(age/time.Second))
}

// etagMatch reports whether an If-None-Match header names the key.
func etagMatch(header, key string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == `"`+key+`"` {
			return true
		}
	}
	return false
}

// target is what a request resolves to: output format and cache key.
type target struct {
	format     string
	negotiated bool
	key        string
}

func (s *Service) target(req *request, im *imgmgr.Image, accept string) target {
	t := target{format: req.format}
	if t.format == "" {
		t.negotiated = true
		t.format = variant.Negotiate(accept, s.cfg.FormatOrder, im.HasAlpha, im.Frames > 1)
	}
	t.key = cacheKey(im.SHA256, req.opts.Canonical(), t.format, t.negotiated)
	return t
}
