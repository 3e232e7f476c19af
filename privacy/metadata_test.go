package privacy

import (
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// CarriesMetadata on real files: camera files carry metadata (EXIF, XMP,
// HEIF Exif items), bare test files do not (delivery may serve those
// untouched). The crafted cases are in delivery's TestVariantsCarryNoMetadata.
func TestCarriesMetadata(t *testing.T) {
	for _, c := range []struct {
		file, format string
		want         bool
	}{
		{"metadata/GPS.jpg", "jpeg", true},
		{"metadata/Landscape_9.jpg", "jpeg", true},
		{"exif-orientation/avif-orientation-6.avif", "avif", true},
		{"alpha/full-transparent.png", "png", false},
		{"png16/tbgn2c16.png", "png", false},
		{"animated/rotating-squares.gif", "gif", true}, // 2.7 KB after the GIF trailer
		{"animated/dispose-previous.gif", "gif", false},
		{"animated/rotating-squares.webp", "webp", false},
	} {
		if got := CarriesMetadata(c.format, testenv.ReadImage(t, c.file)); got != c.want {
			t.Errorf("%s: CarriesMetadata = %v, want %v", c.file, got, c.want)
		}
	}
	if !CarriesMetadata("tiff", []byte("II*\x00")) || !CarriesMetadata("png", []byte("\x89PNG\r\n\x1a\n\x00")) {
		t.Error("an unsupported format or a file that does not parse must count as carrying metadata")
	}
}
