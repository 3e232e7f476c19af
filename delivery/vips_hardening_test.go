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
// answers 503 with Retry-After. (A small original, so that the pixels are
// ready long before the deadline and the encode is what runs past it.)
func TestRenderTimeoutStopsLargeAVIF(t *testing.T) {
	before := vips.LiveObjects()
	e := newEnv(t, func(c *delivery.Config) { c.RenderTimeout = 3 * time.Second }, nil)
	im := e.addImage("photo/concert.jpg", imgmgr.Public)
	r := e.get("GET", e.sign(im, "rs:force:3000:3000:1/q:100", "avif", 0))
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("3000×3000 AVIF past the render timeout: %d (%d bytes), Retry-After %q; want 503 with Retry-After",
			r.status, len(r.body), r.header.Get("Retry-After"))
	}
	if n := e.counter("imgmgr_variant_renders_total", "outcome", "timeout"); n != 1 {
		t.Errorf("%v timeouts counted, want 1", n)
	}
	waitForLibvips(t, before)
}
