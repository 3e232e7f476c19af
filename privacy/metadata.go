package privacy

import (
	"bytes"
	"encoding/binary"
	"io"
)

// CarriesMetadata reports whether the encoded image b (format as for
// StripLocation) holds anything beyond what its pixels need: every
// ancillary metadata chunk, segment, box or extension counts, and so do
// unknown ones and bytes after the image's end. Rendering information
// (palettes, transparency, gamma, colour profiles, frame timing and
// loops, JFIF density, the Adobe colour transform) does not. A file that
// does not parse, or a format not listed, carries metadata: only a file
// known to be clean may be served in place of a variant, which promises
// that all metadata is stripped.
func CarriesMetadata(format string, b []byte) bool {
	switch format {
	case "png":
		return pngCarries(b)
	case "jpeg":
		return jpegCarries(b)
	case "webp":
		return webpCarries(b)
	case "gif":
		return gifCarries(b)
	case "avif", "heif":
		rec := &recorder{}
		err := walkISOBMFF(bytes.NewReader(b), io.Discard, rec)
		return err != nil || rec.found
	}
	return true
}

// recorder notes whether a walker met any metadata block.
type recorder struct{ found bool }

func (r *recorder) exif([]byte) { r.found = true }
func (r *recorder) xmp([]byte)  { r.found = true }
func (r *recorder) irb([]byte)  { r.found = true }

// pngRendering are the chunks that describe pixels; every other chunk
// (tEXt, zTXt, iTXt, eXIf, tIME, private chunks, ...) is metadata.
var pngRendering = map[string]bool{"IHDR": true, "PLTE": true, "IDAT": true, "tRNS": true, "gAMA": true,
	"cHRM": true, "sRGB": true, "iCCP": true, "sBIT": true, "bKGD": true, "pHYs": true, "hIST": true,
	"acTL": true, "fcTL": true, "fdAT": true}

func pngCarries(b []byte) bool {
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		return true
	}
	for i := 8; i+12 <= len(b); {
		n := int(binary.BigEndian.Uint32(b[i:]))
		typ := string(b[i+4 : i+8])
		if n < 0 || n > len(b)-i-12 {
			return true
		}
		if typ == "IEND" {
			return i+12+n < len(b) // bytes after IEND
		}
		if !pngRendering[typ] {
			return true
		}
		i += 12 + n
	}
	return true // no IEND
}

func jpegCarries(b []byte) bool {
	if !bytes.HasPrefix(b, []byte{0xFF, 0xD8}) {
		return true
	}
	for i := 2; i+1 < len(b); {
		if b[i] != 0xFF {
			return true
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte
			i++
			continue
		case m == 0xD9: // EOI: anything after it (MPF images, appended data) counts
			return i+2 < len(b)
		case m >= 0xD0 && m <= 0xD7, m == 0x01:
			i += 2
			continue
		}
		if i+4 > len(b) {
			return true
		}
		size := int(binary.BigEndian.Uint16(b[i+2:]))
		if size < 2 || i+2+size > len(b) || jpegMetadata(m, b[i+4:i+2+size]) {
			return true
		}
		i += 2 + size
		if m == 0xDA {
			i = entropyEnd(b, i)
		}
	}
	return true // no EOI
}

// jpegMetadata: COM and every APPn count, except JFIF without a
// thumbnail, ICC profile chunks and Adobe's colour-transform segment.
func jpegMetadata(marker byte, seg []byte) bool {
	switch {
	case marker == 0xFE:
		return true
	case marker == 0xE0:
		return !bytes.HasPrefix(seg, []byte("JFIF\x00")) || len(seg) > 14 // a thumbnail, or JFXX
	case marker == 0xE2:
		return !bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00"))
	case marker == 0xEE:
		return !bytes.HasPrefix(seg, []byte("Adobe"))
	}
	return marker >= 0xE0 && marker <= 0xEF
}

// entropyEnd skips entropy-coded data (stuffed FF00 and restart markers)
// to the next marker.
func entropyEnd(b []byte, i int) int {
	for ; i+1 < len(b); i++ {
		if b[i] == 0xFF && b[i+1] != 0x00 && (b[i+1] < 0xD0 || b[i+1] > 0xD7) {
			return i
		}
	}
	return len(b)
}

func webpCarries(b []byte) bool {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WEBP" {
		return true
	}
	if int64(binary.LittleEndian.Uint32(b[4:]))+8 != int64(len(b)) {
		return true // bytes after the RIFF chunk, or a short file
	}
	for i := 12; i < len(b); {
		if i+8 > len(b) {
			return true
		}
		n := int64(binary.LittleEndian.Uint32(b[i+4:]))
		if n > int64(len(b)-i-8) {
			return true
		}
		switch string(b[i : i+4]) {
		case "VP8 ", "VP8L", "VP8X", "ALPH", "ANIM", "ANMF", "ICCP":
		default: // EXIF, XMP , unknown
			return true
		}
		i += 8 + int(n) + int(n&1)
	}
	return false
}

func gifCarries(b []byte) bool {
	if len(b) < 13 || !(bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))) {
		return true
	}
	i := 13 + colorTable(b[10])
	for i < len(b) {
		switch b[i] {
		case 0x3B: // trailer
			return i+1 < len(b)
		case 0x2C: // image: descriptor, local table, LZW code size, data
			if i+10 > len(b) {
				return true
			}
			i = subBlocksEnd(b, i+10+colorTable(b[i+9])+1)
		case 0x21:
			if i+2 > len(b) || gifMetadata(b[i+1], b[i+2:]) {
				return true
			}
			i = subBlocksEnd(b, i+2)
		default:
			return true
		}
	}
	return true // no trailer
}

func colorTable(packed byte) int {
	if packed&0x80 == 0 {
		return 0
	}
	return 3 << (packed&7 + 1)
}

// gifMetadata: comment, plain-text and application extensions count,
// except the animation loop (NETSCAPE2.0 / ANIMEXTS1.0); graphic control
// does not.
func gifMetadata(label byte, rest []byte) bool {
	switch label {
	case 0xF9:
		return false
	case 0xFF:
		return !(len(rest) >= 12 && rest[0] == 11 &&
			(string(rest[1:12]) == "NETSCAPE2.0" || string(rest[1:12]) == "ANIMEXTS1.0"))
	}
	return true
}

// subBlocksEnd skips GIF data sub-blocks starting at i, past the
// terminator; len(b)+1 when they run past the end.
func subBlocksEnd(b []byte, i int) int {
	for i < len(b) {
		n := int(b[i])
		i++
		if n == 0 {
			return i
		}
		i += n
	}
	return len(b) + 1
}
