package variant

import "github.com/imgmgr/imgmgr/vips"

// encode runs the saver: progressive optimised JPEG, PNG (palette when
// configured), WebP, AVIF at the tuned effort, JPEG XL, GIF. Quality is
// the q: option or the format's configured default.
func encode(r *render) error {
	f := r.req.Format
	o := vips.SaveOptions{
		Quality: r.req.Options.Quality,
		Strip:   !r.keepICC && r.copyEXIF == nil,
		Effort:  r.cfg.Effort[f],
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
