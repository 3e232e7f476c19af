package delivery

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/privacy"
	"github.com/imgmgr/imgmgr/variant"
	"github.com/imgmgr/imgmgr/vips"
)

// renderAndStore renders the variant, possibly swaps in the original when
// it is the smaller equivalent, stores the result and returns it.
// stored reports whether the result is in the shared cache.
func (s *Service) renderAndStore(ctx context.Context, im *imgmgr.Image, o variant.Options, t target, accept string) (_ *rendered, stored bool, _ error) {
	start := time.Now()
	res, err := s.render(ctx, im, o, t.format)
	outcome := "ok"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		outcome = "timeout"
		err = s.renderTimeout(err)
	case err != nil:
		outcome = "error"
	}
	s.m.seconds.WithLabelValues(t.format).Observe(time.Since(start).Seconds())
	if err != nil {
		s.m.renders.WithLabelValues(t.format, outcome).Inc()
		s.log.Warn("delivery: render failed", "image", im.ID, "options", o.Canonical(), "format", t.format, "err", err)
		return nil, false, err
	}
	out := &rendered{body: res.Bytes, contentType: imgmgr.MIMEType(res.Format)}
	if s.originalInstead(res, im, t, accept) {
		// Only an original with no metadata at all may stand in for a
		// variant (variants strip all metadata; libvips sees only some).
		if orig, err := s.readOriginal(ctx, im); err == nil && !privacy.CarriesMetadata(im.Format, orig) {
			out, outcome = &rendered{body: orig, contentType: im.ContentType()}, "original"
		}
	}
	s.m.renders.WithLabelValues(t.format, outcome).Inc()
	// A finished render is stored whatever became of the render's own
	// deadline or its clients: otherwise every repeat pays for it again.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	return out, s.store(sctx, t.key, im.SHA256, t.format, out.body), nil
}

// storeTimeout bounds storing one rendered variant.
const storeTimeout = 30 * time.Second

// renderTimeout is the answer to a render (or a wait for another replica's
// render) that ran past its deadline.
func (s *Service) renderTimeout(err error) error {
	if !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "render_timeout", Message: "rendering took too long", RetryAfter: s.cfg.RetryAfter, Err: err}
}

// originalInstead: nothing was resized and the original, in a format the
// client takes, is smaller than the re-encode. Only for negotiated
// requests (an explicit extension gets that format) and formats every
// client shows, or the format asked for.
func (s *Service) originalInstead(res *variant.Result, im *imgmgr.Image, t target, accept string) bool {
	// GIF is excluded: libvips does not read a GIF's XMP extension, so an
	// "untouched" GIF could still carry a location.
	if !res.Untouched || im.Size >= int64(len(res.Bytes)) || im.Format == "gif" {
		return false
	}
	if im.Format == res.Format {
		return true
	}
	return t.negotiated && variant.Accepts(accept, im.Format) && im.Format != "webp" && im.Format != "avif" && im.Format != "jxl"
}

func (s *Service) render(ctx context.Context, im *imgmgr.Image, o variant.Options, format string) (*variant.Result, error) {
	src, err := s.openSource(ctx, im)
	if err != nil {
		return nil, err
	}
	return s.cfg.Render.Render(ctx, variant.Request{Source: src, Header: im.Header, Options: o, Format: format})
}

// openSource hands libvips the original: the file itself when the blob
// store is local, else its bytes read into libvips-owned memory.
func (s *Service) openSource(ctx context.Context, im *imgmgr.Image) (*vips.Source, error) {
	key := blob.OriginalKey(im.SHA256)
	if op, ok := s.deps.Blobs.(blob.Opener); ok {
		f, _, err := op.Open(ctx, key)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return vips.SourceFile(f.Name())
	}
	info, err := s.deps.Blobs.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	rc, err := s.deps.Blobs.Get(ctx, key, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return vips.SourceReader(ctx, rc, info.Size)
}

func (s *Service) readOriginal(ctx context.Context, im *imgmgr.Image) ([]byte, error) {
	rc, err := s.deps.Blobs.Get(ctx, blob.OriginalKey(im.SHA256), 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, im.Size+1))
}
