package variant

import "github.com/imgmgr/imgmgr/vips"

// load decodes the original through libvips' thumbnail path: JPEG, WebP
// and HEIF shrink while decoding, so a 24 MP JPEG is never decoded at full
// size for an 800 px result. EXIF rotation and the resize to the plan's
// scaled size happen here too; CMYK becomes sRGB.
func load(r *render) error {
	im, err := vips.Thumbnail(r.req.Source, vips.ThumbnailOptions{
		Width:    r.plan.ScaledWidth,
		Height:   r.plan.ScaledHeight,
		Size:     vips.SizeForce, // the plan already decided the size and enlarging
		Animated: r.plan.Animated,
		NoRotate: !r.plan.Rotate,
	})
	r.req.Source.Close()
	if err != nil {
		return err
	}
	r.img = im
	return nil
}
