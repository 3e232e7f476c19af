package ingest

import (
	"bytes"
	"encoding/binary"
)

// SniffLen is how many leading bytes Sniff needs at most.
const SniffLen = 4096

// Sniff decides an image format from its leading bytes alone, never from a
// name or a declared type. It returns "" for anything it does not know.
// Formats: jpeg, png, gif, webp, avif, heif, jxl, tiff, bmp, svg.
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return "jpeg"
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return "png"
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		return "gif"
	case len(head) >= 12 && bytes.Equal(head[0:4], []byte("RIFF")) && bytes.Equal(head[8:12], []byte("WEBP")):
		return "webp"
	case bytes.HasPrefix(head, []byte{0xFF, 0x0A}),
		bytes.HasPrefix(head, []byte("\x00\x00\x00\x0cJXL \r\n\x87\n")):
		return "jxl"
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return "tiff"
	case len(head) >= 14 && bytes.HasPrefix(head, []byte("BM")) && bmpHeaderOK(head):
		return "bmp"
	}
	if f := sniffISOBMFF(head); f != "" {
		return f
	}
	if isSVG(head) {
		return "svg"
	}
	return ""
}

// sniffISOBMFF reads an ftyp box: major and compatible brands tell AVIF from HEIF.
func sniffISOBMFF(head []byte) string {
	if len(head) < 16 || !bytes.Equal(head[4:8], []byte("ftyp")) {
		return ""
	}
	size := int(binary.BigEndian.Uint32(head[0:4]))
	if size < 16 || size > len(head) {
		size = min(len(head), 256)
	}
	brands := [][]byte{head[8:12]}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, head[i:i+4])
	}
	heif := false
	for _, b := range brands {
		switch string(b) {
		case "avif", "avis":
			return "avif"
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			heif = true
		}
	}
	if heif {
		return "heif"
	}
	return ""
}

// bmpHeaderOK checks the BITMAPFILEHEADER's reserved fields are zero and its
// DIB header size is a known one, so text starting with "BM" is not a BMP.
func bmpHeaderOK(h []byte) bool {
	if binary.LittleEndian.Uint32(h[6:10]) != 0 || len(h) < 18 {
		return false
	}
	switch binary.LittleEndian.Uint32(h[14:18]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

// isSVG reports whether head is XML whose first element is <svg>.
func isSVG(head []byte) bool {
	s := bytes.TrimPrefix(head, []byte("\xEF\xBB\xBF"))
	for {
		s = bytes.TrimLeft(s, " \t\r\n")
		switch {
		case bytes.HasPrefix(s, []byte("<!DOCTYPE svg")), bytes.HasPrefix(s, []byte("<!doctype svg")):
			// An SVG by its own declaration, whatever its internal subset
			// holds (the sanitiser refuses entity declarations: 422
			// svg_doctype, not 415 for an unrecognised file).
			return true
		case bytes.HasPrefix(s, []byte("<?xml")), bytes.HasPrefix(s, []byte("<!--")),
			bytes.HasPrefix(s, []byte("<!DOCTYPE")), bytes.HasPrefix(s, []byte("<!doctype")):
			end := []byte(">")
			if bytes.HasPrefix(s, []byte("<!--")) {
				end = []byte("-->")
			}
			i := bytes.Index(s, end)
			if i < 0 {
				return false
			}
			s = s[i+len(end):]
		default:
			return bytes.HasPrefix(s, []byte("<svg")) && len(s) > 4 && (s[4] == ' ' || s[4] == '>' || s[4] == '\n' || s[4] == '\t' || s[4] == '\r')
		}
	}
}
