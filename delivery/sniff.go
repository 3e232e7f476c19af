package delivery

import (
	"bytes"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// sniffFormat names the format of stored variant bytes (a variant may be
// the original, in another format than its key says).
func sniffFormat(h []byte) string {
	switch {
	case bytes.HasPrefix(h, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(h, []byte("\x89PNG")):
		return "png"
	case bytes.HasPrefix(h, []byte("GIF8")):
		return "gif"
	case len(h) >= 12 && bytes.HasPrefix(h, []byte("RIFF")) && bytes.Equal(h[8:12], []byte("WEBP")):
		return "webp"
	case bytes.HasPrefix(h, []byte{0xFF, 0x0A}), bytes.HasPrefix(h, []byte("\x00\x00\x00\x0cJXL ")):
		return "jxl"
	case len(h) >= 12 && bytes.Equal(h[4:8], []byte("ftyp")):
		if bytes.Contains(h[8:min(len(h), 32)], []byte("avi")) {
			return "avif"
		}
		return "heif"
	}
	return ""
}
