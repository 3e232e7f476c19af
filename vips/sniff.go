package vips

import (
	"bytes"
	"encoding/binary"
)

// sniffLen is how many leading bytes sniff looks at.
const sniffLen = 64

// sniff names the format from leading bytes, or "" when it is none of
// those imgmgr decodes. libvips is only ever given content that passed this
// check, so its generic loader detection cannot pick an unexpected decoder.
func sniff(h []byte) string {
	switch {
	case bytes.HasPrefix(h, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(h, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(h, []byte("GIF87a")), bytes.HasPrefix(h, []byte("GIF89a")):
		return "gif"
	case len(h) >= 12 && bytes.HasPrefix(h, []byte("RIFF")) && bytes.Equal(h[8:12], []byte("WEBP")):
		return "webp"
	case bytes.HasPrefix(h, []byte{0xFF, 0x0A}), bytes.HasPrefix(h, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return "jxl"
	case bytes.HasPrefix(h, []byte("II*\x00")), bytes.HasPrefix(h, []byte("MM\x00*")):
		return "tiff"
	case len(h) >= 18 && bytes.HasPrefix(h, []byte("BM")) && binary.LittleEndian.Uint32(h[6:10]) == 0:
		return "bmp"
	case len(h) >= 12 && bytes.Equal(h[4:8], []byte("ftyp")):
		return "heif" // avif or heif: libheif's compression metadata tells which
	case svgLike(h):
		return "svg"
	}
	return ""
}

// svgLike reports an XML document (or a bare <svg> root) as ingest stores
// a sanitised SVG: it starts with "<?xml" or "<svg", after an optional BOM
// and white space. Only stored SVGs reach libvips (see shim.c).
func svgLike(h []byte) bool {
	h = bytes.TrimLeft(bytes.TrimPrefix(h, []byte("\xEF\xBB\xBF")), " \t\r\n")
	return bytes.HasPrefix(h, []byte("<svg")) || bytes.HasPrefix(h, []byte("<?xml"))
}
