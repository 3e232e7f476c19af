package variant

// flatten composes images with alpha over the background colour when the
// output format has no alpha channel (JPEG).
func flatten(r *render) error {
	if r.req.Format != "jpeg" || !r.img.HasAlpha() {
		return nil
	}
	bg := r.cfg.Background
	r.touched = true
	return r.replace(r.img.Flatten(float64(bg[0]), float64(bg[1]), float64(bg[2])))
}
