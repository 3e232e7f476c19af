package privacy

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// imageData returns the bytes of a file that hold image data, as the
// format's own structure says, for comparing before and after stripping:
// JPEG from the first SOS on, PNG's IDAT payloads, WebP's chunks other
// than EXIF and XMP, and for HEIF/AVIF every byte outside the metadata
// items' extents.
func imageData(t *testing.T, format string, b []byte) []byte {
	t.Helper()
	switch format {
	case "jpeg":
		i := bytes.Index(b, []byte{0xFF, 0xDA})
		if i < 0 {
			t.Fatal("no SOS")
		}
		return b[i:]
	case "png":
		var out []byte
		for i := 8; i+8 <= len(b); {
			n := int(binary.BigEndian.Uint32(b[i:]))
			if string(b[i+4:i+8]) == "IDAT" {
				out = append(out, b[i+8:i+8+n]...)
			}
			i += 12 + n
		}
		return out
	case "webp":
		var out []byte
		for i := 12; i+8 <= len(b); {
			n := int(binary.LittleEndian.Uint32(b[i+4:]))
			end := min(i+8+n+n&1, len(b))
			if fc := string(b[i : i+4]); fc != "EXIF" && fc != "XMP " {
				out = append(out, b[i:end]...)
			}
			i = end
		}
		return out
	case "avif", "heif":
		return outsideItems(t, b)
	}
	t.Fatalf("no image-data view for %s", format)
	return nil
}

// outsideItems blanks the metadata items' extents of an ISOBMFF file and
// returns the rest.
func outsideItems(t *testing.T, b []byte) []byte {
	t.Helper()
	out := bytes.Clone(b)
	for i := 0; i+8 <= len(b); {
		size := int(binary.BigEndian.Uint32(b[i:]))
		if size < 8 || i+size > len(b) {
			t.Fatalf("bad box at %d", i)
		}
		if string(b[i+4:i+8]) == "meta" {
			items, idat, err := parseMeta(b[i+8:i+size], 8)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range items {
				for _, e := range it.extents {
					off := e.off
					if it.inIdat {
						off += uint64(i + idat[0])
					}
					clear(out[off : off+e.len])
				}
			}
		}
		i += size
	}
	return out
}
