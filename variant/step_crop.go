package variant

import "math"

// crop cuts the plan's crop box out of the resized image, anchored by the
// gravity: a compass point, the centre, a focus point, or the most
// interesting region (libvips attention; centre for animations).
func crop(r *render) error {
	w, h := r.img.Width(), r.img.PageHeight()
	cw, ch := min(r.plan.CropWidth, w), min(r.plan.CropHeight, h)
	if cw == w && ch == h {
		return nil
	}
	g := r.req.Options.Gravity
	if g.Type == GravitySmart && !r.plan.Animated {
		return r.replace(r.img.SmartCrop(cw, ch))
	}
	left, top := anchor(g, w, h, cw, ch)
	return r.replace(r.img.Crop(left, top, cw, ch))
}

// anchor is the top-left corner of a cw×ch box inside w×h for gravity g.
func anchor(g Gravity, w, h, cw, ch int) (int, int) {
	if g.Type == GravityFocus {
		left := int(math.Round(g.X*float64(w) - float64(cw)/2))
		top := int(math.Round(g.Y*float64(h) - float64(ch)/2))
		return clamp(left, 0, w-cw), clamp(top, 0, h-ch)
	}
	left, top := (w-cw)/2, (h-ch)/2
	t := g.Type
	if len(t) >= 2 && t[:2] == "no" {
		top = 0
	}
	if len(t) >= 2 && t[:2] == "so" {
		top = h - ch
	}
	if t == "we" || (len(t) == 4 && t[2:] == "we") {
		left = 0
	}
	if t == "ea" || (len(t) == 4 && t[2:] == "ea") {
		left = w - cw
	}
	return left, top
}

func clamp(v, lo, hi int) int { return max(lo, min(v, hi)) }
