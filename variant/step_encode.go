package variant

import "github.com/imgmgr/imgmgr/vips"

// outputPixels is the size of the image the encoder gets, all frames.
func (r *render) outputPixels() int64 {
	return int64(r.img.Width()) * int64(r.img.Height())
}

// encode runs the saver: progressive optimised JPEG, PNG (palette when
// configured), WebP, AVIF at the tuned effort, JPEG XL, GIF. Quality is
// the q: option or the format's configured default.
func encode(r *render) error {
	f := r.req.Format
	o := vips.SaveOptions{
		Quality: r.req.Options.Quality,
		Strip:   !r.keepICC && r.copyEXIF == nil,
		Effort:  r.cfg.Effort[f],
		// A very large output gets the encoder's lowest effort, so that
		// its encode (which libvips cannot interrupt) stays bounded.
		Fastest: r.outputPixels() > r.cfg.FastEncodePixels,
	}
	if o.Quality == 0 {
		o.Quality = r.cfg.Quality[f]
	}
	switch f {
	case "jpeg":
		o.Interlace, o.Optimize = true, true
	case "png":
		o.Palette = r.cfg.PNGPalette
	}
	b, err := r.img.Save(r.ctx, f, o)
	if err != nil {
		return err
	}
	r.out = b
	return nil
}
