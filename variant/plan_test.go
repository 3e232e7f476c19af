package variant

import (
	"testing"

	"github.com/imgmgr/imgmgr"
)

func TestPlan(t *testing.T) {
	land := imgmgr.Header{Width: 4000, Height: 3000, Frames: 1, Orientation: 1}
	rot := imgmgr.Header{Width: 3000, Height: 4000, Frames: 1, Orientation: 6} // upright 4000x3000
	small := imgmgr.Header{Width: 400, Height: 300, Frames: 1, Orientation: 1}
	tests := []struct {
		h              imgmgr.Header
		opts           string
		sw, sh, cw, ch int
	}{
		{land, "", 4000, 3000, 4000, 3000},
		{land, "rs:fit:800:800", 800, 600, 800, 600},
		{land, "w:800", 800, 600, 800, 600},
		{land, "h:300", 400, 300, 400, 300},
		{land, "rs:fill:800:800", 1067, 800, 800, 800},
		{land, "rs:force:100:100", 100, 100, 100, 100},
		{land, "rs:fit:800:800/dpr:2", 1600, 1200, 1600, 1200},
		{land, "rs:auto:300:200", 300, 225, 300, 200}, // same orientation: fill
		{land, "rs:auto:200:300", 200, 150, 200, 150}, // different: fit
		{rot, "rs:fit:800:800", 800, 600, 800, 600},   // rotation swaps the source
		{rot, "rs:fit:800:800/ar:0", 600, 800, 600, 800},
		{small, "w:800", 400, 300, 400, 300}, // no enlarging
		{small, "w:800/el:1", 800, 600, 800, 600},
		{small, "rs:fill:800:800", 400, 300, 400, 300}, // crop box no larger than the image
		{small, "rs:fill-down:800:400", 400, 300, 400, 200},
		{small, "w:100/mw:200", 200, 150, 200, 150},
	}
	for _, tt := range tests {
		o, err := ParseString(tt.opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPlan(tt.h, o, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.ScaledWidth != tt.sw || p.ScaledHeight != tt.sh || p.CropWidth != tt.cw || p.CropHeight != tt.ch {
			t.Errorf("%dx%d o%d %q: scaled %dx%d crop %dx%d, want %dx%d crop %dx%d", tt.h.Width, tt.h.Height, tt.h.Orientation, tt.opts,
				p.ScaledWidth, p.ScaledHeight, p.CropWidth, p.CropHeight, tt.sw, tt.sh, tt.cw, tt.ch)
		}
	}
}

func TestPlanResultLimit(t *testing.T) {
	o, _ := ParseString("w:10000/el:1", nil)
	_, err := NewPlan(imgmgr.Header{Width: 1000, Height: 1000, Frames: 1, Orientation: 1}, o, false, 50_000_000)
	if imgmgr.KindOf(err) != imgmgr.KindUnprocessable {
		t.Errorf("100 MP result: %v, want 422", err)
	}
	o, _ = ParseString("w:100", nil)
	_, err = NewPlan(imgmgr.Header{Width: 1000, Height: 1000, Frames: 10000, Orientation: 1}, o, true, 50_000_000)
	if imgmgr.KindOf(err) != imgmgr.KindUnprocessable {
		t.Errorf("100 MP of frames: %v, want 422", err)
	}
}
