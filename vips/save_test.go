package vips

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// settle waits until the live libvips objects are back to want and
// returns the count then.
func settle(want Objects) Objects {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if got := LiveObjects(); got == want || time.Now().After(deadline) {
			return got
		}
	}
}

// Regression (issue 10 item 8): libvips cannot interrupt an AVIF (or
// WebP) encode once its pixels are gathered, so Save went on until the
// encode ended — 13 s for a 7000×7000 AVIF under a 2 s render timeout —
// and returned the bytes. Save now returns ctx's error when ctx ends, and
// the abandoned encode frees everything it holds when it finishes.
func TestSaveReturnsWhenContextEnds(t *testing.T) {
	before := LiveObjects()
	src, err := SourceFile(testenv.Image(t, "photo/concert.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	// 3000×3000 from a small JPEG: pixels in well under a second, an AVIF
	// encode at q 100 and effort 4 of many CPU seconds.
	im, err := Thumbnail(src, ThumbnailOptions{Width: 3000, Height: 3000, Size: SizeForce})
	src.Close()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	b, err := im.Save(ctx, "avif", SaveOptions{Quality: 100, Effort: 4})
	im.Close()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Save past its deadline: %d bytes, %v; want context.DeadlineExceeded", len(b), err)
	}
	if after := settle(before); after != before {
		t.Errorf("libvips objects once the abandoned encode ended: %+v, before %+v", after, before)
	}
}
