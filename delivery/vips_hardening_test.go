package delivery_test

import (
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/delivery"
	"github.com/imgmgr/imgmgr/vips"
)

// waitForLibvips waits (up to a minute) until no more libvips objects are
// alive than before: an encode abandoned at a render's deadline finishes
// in the background.
func waitForLibvips(t *testing.T, before vips.Objects) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if vips.LiveObjects().All <= before.All {
			return
		}
	}
	t.Errorf("libvips objects a minute after the render: %+v, before %+v", vips.LiveObjects(), before)
}

// Regression (issue 10 item 8): rs:force:7000:7000:1/q:100@avif with a
// 2 s render timeout answered 200 after 13 s, because libvips cannot
// interrupt an AVIF encode and the render waited for it. The deadline now
// answers 503 with Retry-After, whether it falls while the pixels are
// computed (killed) or during the encode (abandoned; the second case has
// pixels ready in a fraction of its deadline and an encode of several CPU
// seconds, at the configured effort). Small originals, so that the encode
// is what runs long.
func TestRenderTimeoutStopsLargeAVIF(t *testing.T) {
	for _, c := range []struct {
		options string
		timeout time.Duration
		careful bool // no lowest-effort bound
	}{
		{"rs:force:7000:7000:1/q:100", 2 * time.Second, false},
		{"rs:force:3000:3000:1/q:100", time.Second, true},
	} {
		before := vips.LiveObjects()
		e := newEnv(t, func(cfg *delivery.Config) {
			cfg.RenderTimeout = c.timeout
			if c.careful {
				cfg.Render.FastEncodePixels = 1 << 40
			}
		}, nil)
		im := e.addImage("photo/concert.jpg", imgmgr.Public)
		r := e.get("GET", e.sign(im, c.options, "avif", 0))
		if r.status != 503 || r.header.Get("Retry-After") == "" {
			t.Errorf("%s@avif past a %v render timeout: %d (%d bytes), Retry-After %q; want 503 with Retry-After",
				c.options, c.timeout, r.status, len(r.body), r.header.Get("Retry-After"))
		}
		if n := e.counter("imgmgr_variant_renders_total", "outcome", "timeout"); n != 1 {
			t.Errorf("%s: %v timeouts counted, want 1", c.options, n)
		}
		waitForLibvips(t, before)
	}
}
