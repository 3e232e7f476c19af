package privacy

import (
	"bytes"
	"io"
)

// readN reads exactly n bytes. The buffer grows with the bytes that
// actually arrive, so a length field claiming megabytes in a short file
// costs no more memory than the file.
func readN(r io.Reader, n int64) ([]byte, error) {
	var buf bytes.Buffer
	if n < 1<<16 {
		buf.Grow(int(n))
	}
	got, err := io.CopyN(&buf, r, n)
	if got < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// handler is given each metadata block a format walker finds, in place:
// the stripper edits it (keeping its length), the reader only reads it.
type handler interface {
	exif(tiff []byte) // a TIFF structure (EXIF), from its byte-order mark
	xmp(packet []byte)
	irb(b []byte) // a Photoshop image resource block (IPTC lives there)
}

// stripper removes location data. Blocks it cannot parse are zeroed (EXIF,
// IRB) or blanked (XMP): what cannot be read cannot be vouched for.
type stripper struct{ changed bool }

func (s *stripper) exif(b []byte) {
	changed, err := stripTIFFGPS(b)
	if err != nil {
		clear(b)
		changed = true
	}
	s.changed = s.changed || changed
}

func (s *stripper) xmp(b []byte) {
	s.changed = blankXMPLocation(b) || s.changed
}

func (s *stripper) irb(b []byte) {
	changed, err := stripIRBLocation(b)
	if err != nil {
		clear(b)
		changed = true
	}
	s.changed = s.changed || changed
}
