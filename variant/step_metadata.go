package variant

import (
	"strings"
)

// stripMetadata removes EXIF, XMP, IPTC and comments: GPS never survives.
// With kcr (the default) the EXIF Copyright and Artist come back in a
// fresh EXIF block that holds nothing else; with scp:0 the ICC profile
// stays.
func stripMetadata(r *render) error {
	for _, f := range r.img.Fields() {
		if f == "exif-data" || f == "xmp-data" || f == "iptc-data" || strings.HasPrefix(f, "photoshop") {
			r.stripped = true
		}
	}
	if r.req.Options.KeepCopyright {
		r.copyEXIF = copyrightEXIF(fieldText(r.img.String("exif-ifd0-Copyright")), fieldText(r.img.String("exif-ifd0-Artist")))
	}
	return r.replace(r.img.StripMetadata(r.keepICC, r.copyEXIF))
}

// fieldText takes the value out of libvips' EXIF string form,
// "value (value, ASCII, 12 components, 12 bytes)".
func fieldText(s string) string {
	if i := strings.Index(s, " ("); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
