package variant

import (
	"math"

	"github.com/imgmgr/imgmgr"
)

// Plan is the geometry of one render, worked out from the header alone
// before any pixel is decoded.
type Plan struct {
	SrcWidth, SrcHeight int // one frame, upright (after EXIF rotation)
	ScaledWidth         int // after resizing
	ScaledHeight        int
	CropWidth           int // final size; equals Scaled* when nothing is cropped
	CropHeight          int
	Rotate              bool // EXIF orientation is applied
	Animated            bool // every frame is kept
}

// Resized reports whether the render changes the pixel grid at all.
func (p Plan) Resized() bool {
	return p.ScaledWidth != p.SrcWidth || p.ScaledHeight != p.SrcHeight ||
		p.CropWidth != p.ScaledWidth || p.CropHeight != p.ScaledHeight
}

// NewPlan works out the output size of o applied to an image with header
// h. maxPixels bounds the output (per frame, times the frames when
// animated): above it the request is a 422.
func NewPlan(h imgmgr.Header, o Options, animated bool, maxPixels int64) (Plan, error) {
	p := Plan{SrcWidth: h.Width, SrcHeight: h.Height, Rotate: o.AutoRotate && h.Orientation > 1, Animated: animated}
	if p.Rotate && h.Orientation >= 5 {
		p.SrcWidth, p.SrcHeight = h.Height, h.Width
	}
	w, hh := scaleDim(o.Width, o.DPR), scaleDim(o.Height, o.DPR)
	if h.Format == "svg" {
		o.Enlarge = true // a vector has no native resolution to stay under (as imgproxy treats SVG)
	}
	sx, sy := scales(p.SrcWidth, p.SrcHeight, w, hh, o)
	p.ScaledWidth = max(int(math.Round(float64(p.SrcWidth)*sx)), 1)
	p.ScaledHeight = max(int(math.Round(float64(p.SrcHeight)*sy)), 1)
	p.CropWidth, p.CropHeight = p.ScaledWidth, p.ScaledHeight
	if t := resizeType(o, p.SrcWidth, p.SrcHeight, w, hh); t == Fill || t == FillDown {
		p.CropWidth, p.CropHeight = cropBox(p.ScaledWidth, p.ScaledHeight, w, hh, t)
	}
	frames := int64(1)
	if animated {
		frames = int64(max(h.Frames, 1))
	}
	if px := int64(p.ScaledWidth) * int64(p.ScaledHeight) * frames; maxPixels > 0 && px > maxPixels {
		return p, imgmgr.Errorf(imgmgr.KindUnprocessable, "result_too_large",
			"the result would have %d pixels; the limit is %d", px, maxPixels)
	}
	return p, nil
}

func scaleDim(v int, dpr float64) int {
	return int(math.Round(float64(v) * dpr))
}

// resizeType resolves auto: fill when source and target share an
// orientation, fit otherwise.
func resizeType(o Options, sw, sh, w, h int) string {
	if o.ResizeType != Auto {
		return o.ResizeType
	}
	if w == 0 || h == 0 || (sw >= sh) == (w >= h) {
		return Fill
	}
	return Fit
}

// scales returns the horizontal and vertical scale factors.
func scales(sw, sh, w, h int, o Options) (float64, float64) {
	fw, fh := float64(w)/float64(sw), float64(h)/float64(sh)
	t := resizeType(o, sw, sh, w, h)
	var sx, sy float64
	switch {
	case t == Force:
		sx, sy = fw, fh
		if w == 0 {
			sx = 1
		}
		if h == 0 {
			sy = 1
		}
	case w == 0 && h == 0:
		sx, sy = 1, 1
	case w == 0:
		sx, sy = fh, fh
	case h == 0:
		sx, sy = fw, fw
	case t == Fill || t == FillDown:
		sx = math.Max(fw, fh)
		sy = sx
	default: // fit
		sx = math.Min(fw, fh)
		sy = sx
	}
	if !o.Enlarge || t == FillDown {
		sx, sy = math.Min(sx, 1), math.Min(sy, 1)
		if t != Force {
			sx, sy = math.Min(sx, sy), math.Min(sx, sy)
		}
	}
	// min-width / min-height may enlarge.
	if mw := scaleDim(o.MinWidth, o.DPR); mw > 0 && float64(sw)*sx < float64(mw) {
		f := float64(mw) / (float64(sw) * sx)
		sx, sy = sx*f, sy*f
	}
	if mh := scaleDim(o.MinHeight, o.DPR); mh > 0 && float64(sh)*sy < float64(mh) {
		f := float64(mh) / (float64(sh) * sy)
		sx, sy = sx*f, sy*f
	}
	return sx, sy
}

// cropBox is the fill crop: the target box, no larger than the scaled
// image; fill-down keeps the target's aspect ratio when it shrinks.
func cropBox(rw, rh, w, h int, t string) (int, int) {
	if w == 0 {
		w = rw
	}
	if h == 0 {
		h = rh
	}
	cw, ch := min(w, rw), min(h, rh)
	if t == FillDown && (cw < w || ch < h) {
		ratio := float64(w) / float64(h)
		if float64(cw)/float64(ch) > ratio {
			cw = max(int(math.Round(float64(ch)*ratio)), 1)
		} else {
			ch = max(int(math.Round(float64(cw)/ratio)), 1)
		}
	}
	return cw, ch
}
