package variant

import "math"

// plane is one channel of an image as floats 0..255.
type plane struct {
	w, h int
	v    []float64
}

// luma converts interleaved 8-bit pixels (1..4 bands; alpha ignored) to
// Rec. 601 luma.
func luma(px []byte, w, h, bands int) plane {
	p := plane{w: w, h: h, v: make([]float64, w*h)}
	for i := range p.v {
		s := px[i*bands:]
		if bands >= 3 {
			p.v[i] = 0.299*float64(s[0]) + 0.587*float64(s[1]) + 0.114*float64(s[2])
		} else {
			p.v[i] = float64(s[0])
		}
	}
	return p
}

// ssim is the mean structural similarity of two same-sized planes over
// 8×8 windows with stride 4 (Wang et al. 2004, constants for 8-bit).
func ssim(a, b plane) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	win := min(8, a.w, a.h)
	var sum float64
	n := 0
	for y := 0; y+win <= a.h; y += max(win/2, 1) {
		for x := 0; x+win <= a.w; x += max(win/2, 1) {
			var ma, mb, va, vb, cov float64
			for j := 0; j < win; j++ {
				for i := 0; i < win; i++ {
					ma += a.v[(y+j)*a.w+x+i]
					mb += b.v[(y+j)*b.w+x+i]
				}
			}
			k := float64(win * win)
			ma, mb = ma/k, mb/k
			for j := 0; j < win; j++ {
				for i := 0; i < win; i++ {
					da, db := a.v[(y+j)*a.w+x+i]-ma, b.v[(y+j)*b.w+x+i]-mb
					va, vb, cov = va+da*da, vb+db*db, cov+da*db
				}
			}
			va, vb, cov = va/(k-1), vb/(k-1), cov/(k-1)
			sum += ((2*ma*mb + c1) * (2*cov + c2)) / ((ma*ma + mb*mb + c1) * (va + vb + c2))
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}
