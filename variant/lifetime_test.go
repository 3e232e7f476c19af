package variant

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/vips"
)

// renderWith renders file with a context and returns the error.
func renderWith(t *testing.T, ctx context.Context, file, opts, format string) error {
	t.Helper()
	_, err := renderCtx(t, ctx, file, opts, format)
	return err
}

// settled waits until the live libvips objects are back to want (an
// abandoned encode finishes in the background) and returns the count.
func settled(want vips.Objects) vips.Objects {
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := vips.LiveObjects()
		if got == want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Regression (issue 10 item 0): libvips 8.14's webpsave keeps a reference
// to its input when the save fails mid-pipeline (a decoder error in a
// truncated original, a kill), so every failed WebP render leaked the
// whole pipeline: loader, source, open file and every operation.
func TestFailedWebPRenderLeaksNothing(t *testing.T) {
	renderFile(t, "photo/concert.jpg", "w:50", "webp") // warm libvips up
	before := vips.LiveObjects()
	for _, file := range []string{"corrupt/truncated.png", "corrupt/truncated.jpg"} {
		if err := renderWith(t, context.Background(), file, "w:40", "webp"); err == nil {
			t.Fatalf("%s rendered; the test needs a render that fails while saving", file)
		}
	}
	if after := settled(before); after != before {
		t.Errorf("libvips objects after failed WebP renders: %+v, before %+v; alive: %v", after, before, vips.LiveObjectTypes())
	}
}

// Regression (issue 10 item 0): Render returned before its load step
// (context already ended, too many frames, result too large) without
// closing the Source it consumes, leaking it and its open file.
func TestRenderClosesSourceOnEveryPath(t *testing.T) {
	renderFile(t, "photo/concert.jpg", "w:50", "jpeg")
	before := vips.LiveObjects()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := renderWith(t, cancelled, "photo/concert.jpg", "w:50", "jpeg"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled render: %v", err)
	}
	if err := renderWith(t, context.Background(), "photo/concert.jpg", "w:16000/el:1", "jpeg"); err == nil {
		t.Error("a render past MaxResultPixels succeeded")
	}
	if after := vips.LiveObjects(); after != before {
		t.Errorf("libvips objects after early returns: %+v, before %+v; alive: %v", after, before, vips.LiveObjectTypes())
	}
}

// Renders cancelled at every moment, in every format, leave no libvips
// object behind.
func TestCancelledRendersLeakNothing(t *testing.T) {
	renderFile(t, "photo/concert.jpg", "w:50", "jpeg")
	before := vips.LiveObjects()
	for _, format := range []string{"jpeg", "webp", "avif", "png", "gif"} {
		for _, after := range []time.Duration{0, time.Millisecond, 5 * time.Millisecond, 20 * time.Millisecond} {
			ctx, cancel := context.WithTimeout(context.Background(), after)
			_ = renderWith(t, ctx, "photo/2569067123_aca715a2ee_o.jpg", "rs:fit:300:300", format)
			cancel()
		}
	}
	if after := settled(before); after != before {
		t.Errorf("libvips objects after cancelled renders: %+v, before %+v; alive: %v", after, before, vips.LiveObjectTypes())
	}
}

// Issue 10 item 8: outputs above FastEncodePixels are encoded at the
// encoder's lowest effort (an AVIF or WebP encode cannot be interrupted,
// so its cost is bounded up front).
func TestLargeOutputsEncodeAtLowestEffort(t *testing.T) {
	for _, format := range []string{"avif", "webp"} {
		careful := renderFile(t, "photo/concert.jpg", "w:200", format)
		fast := &RenderConfig{FastEncodePixels: 1}
		if err := fast.Validate(); err != nil {
			t.Fatal(err)
		}
		path := testenv.Image(t, "photo/concert.jpg")
		hdr, _ := vips.ProbeFile(path)
		src, _ := vips.SourceFile(path)
		o, _ := ParseString("w:200", nil)
		res, err := fast.Render(context.Background(), Request{Source: src, Header: hdr, Options: o, Format: format})
		if err != nil {
			t.Fatal(err)
		}
		if string(res.Bytes) == string(careful.Bytes) {
			t.Errorf("%s: the same bytes at the lowest effort as at the configured one", format)
		}
	}
}
