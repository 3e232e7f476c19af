package variant

import "bytes"

// colour makes the pixels 8-bit sRGB: an embedded RGB or grey ICC profile
// (Adobe RGB, Display P3, ProPhoto, ...) is converted to sRGB unless the
// request keeps the profile (scp:0); 16-bit and other colour spaces are
// converted after. (CMYK was converted while loading.)
func colour(r *render) error {
	icc := r.img.Blob("icc-profile-data")
	if len(icc) > 0 && iccMatches(icc, r.img.Bands(), r.img.HasAlpha()) {
		if r.req.Options.KeepProfile {
			r.keepICC = true
		} else if !isSRGBProfile(icc) {
			if err := r.replace(r.img.TransformICC()); err != nil {
				return err
			}
			r.touched = true
		}
	}
	return r.replace(r.img.ToSRGB())
}

// iccMatches reports whether the profile's colour space (ICC header bytes
// 16..20) fits the image's bands. libvips may leave a CMYK profile on an
// image it already converted to sRGB: such a profile is dropped.
func iccMatches(icc []byte, bands int, alpha bool) bool {
	if len(icc) < 20 {
		return false
	}
	colourBands := bands
	if alpha {
		colourBands--
	}
	switch string(icc[16:20]) {
	case "RGB ":
		return colourBands == 3
	case "GRAY":
		return colourBands == 1
	}
	return false
}

// isSRGBProfile recognises the common sRGB profiles by their description,
// so that sRGB sources skip a needless transform.
func isSRGBProfile(icc []byte) bool {
	return bytes.Contains(icc, []byte("sRGB")) || bytes.Contains(icc, []byte("s\x00R\x00G\x00B"))
}
