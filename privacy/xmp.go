package privacy

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// XMP namespaces whose properties say where a photo was taken.
const (
	nsExif       = "http://ns.adobe.com/exif/1.0/"
	nsExifEX     = "http://cipa.jp/exif/1.0/"
	nsPhotoshop  = "http://ns.adobe.com/photoshop/1.0/"
	nsIptcCore   = "http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/"
	nsIptcExt    = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
	nsDJI        = "http://www.dji.com/drone-dji/1.0/"
	nsXmpNote    = "http://ns.adobe.com/xmp/note/"
	nsTiff       = "http://ns.adobe.com/tiff/1.0/"
	nsXmp        = "http://ns.adobe.com/xap/1.0/"
	nsAux        = "http://ns.adobe.com/exif/1.0/aux/"
	nsRDF        = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
	xmpSignature = "http://ns.adobe.com/xap/1.0/\x00"
)

// isLocationProperty reports whether an XMP property names a place: any
// property whose name starts with "GPS" (exif:GPSLatitude, DJI's
// GpsLatitude, ...), the IPTC and Photoshop place fields, and DJI's
// absolute altitude. Structures (Iptc4xmpExt:LocationShown) go whole.
func isLocationProperty(n xml.Name) bool {
	if len(n.Local) >= 3 && strings.EqualFold(n.Local[:3], "gps") {
		return true
	}
	switch n.Space {
	case nsPhotoshop:
		return n.Local == "City" || n.Local == "State" || n.Local == "Country"
	case nsIptcCore:
		return n.Local == "Location" || n.Local == "CountryCode"
	case nsIptcExt:
		return n.Local == "LocationCreated" || n.Local == "LocationShown"
	case nsDJI:
		return n.Local == "AbsoluteAltitude"
	}
	return false
}

// blankXMPLocation overwrites the location properties of the XMP packet b
// with spaces, in place: elements whole, attributes name and value. The
// packet keeps its length, so no offset anywhere needs fixing, and stays
// well-formed XML. It reports whether anything was blanked. A packet that
// is not well-formed XML is blanked entirely (it cannot be vouched for).
func blankXMPLocation(b []byte) bool {
	if order, ok := utf16Order(b); ok {
		return blankUTF16(b, order)
	}
	ranges, err := xmpLocationRanges(b)
	if err != nil {
		blank(b)
		return true
	}
	for _, r := range ranges {
		blank(b[r[0]:r[1]])
	}
	return len(ranges) > 0
}

func blank(b []byte) {
	for i := range b {
		b[i] = ' '
	}
}

// utf16Order detects a UTF-16 packet by its first character ('<' or a BOM).
func utf16Order(b []byte) (binary.ByteOrder, bool) {
	if len(b) < 2 || len(b)%2 != 0 {
		return nil, false
	}
	switch {
	case b[0] == 0 && b[1] != 0, b[0] == 0xFE && b[1] == 0xFF:
		return binary.BigEndian, true
	case b[0] != 0 && b[1] == 0 && b[0] != 0xEF, b[0] == 0xFF && b[1] == 0xFE:
		return binary.LittleEndian, true
	}
	return nil, false
}

// blankUTF16 blanks the location properties of a UTF-16 packet: it is
// decoded to UTF-8 with a map back to code-unit offsets, and the ranges
// found there are blanked in the original with UTF-16 spaces.
func blankUTF16(b []byte, order binary.ByteOrder) bool {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = order.Uint16(b[2*i:])
	}
	var u8 []byte
	var at []int // at[k] = code-unit index where UTF-8 byte k's character starts
	for i := 0; i < len(units); {
		r, n := rune(units[i]), 1
		if utf16.IsSurrogate(r) && i+1 < len(units) {
			r, n = utf16.DecodeRune(r, rune(units[i+1])), 2
		}
		start := len(u8)
		u8 = utf8.AppendRune(u8, r)
		for range len(u8) - start {
			at = append(at, i)
		}
		i += n
	}
	at = append(at, len(units))
	ranges, err := xmpLocationRanges(u8)
	if err != nil {
		ranges = [][2]int{{0, len(u8)}}
	}
	for _, r := range ranges {
		for k := at[r[0]]; k < at[r[1]]; k++ {
			order.PutUint16(b[2*k:], ' ')
		}
	}
	return len(ranges) > 0
}

// maxXMPDepth bounds element nesting.
const maxXMPDepth = 256

// xmpLocationRanges returns the byte ranges of location properties in b.
func xmpLocationRanges(b []byte) ([][2]int, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // already UTF-8
	var (
		ranges    [][2]int
		depth     int
		skipDepth int // > 0 while inside a removed element
		skipStart int
	)
	for {
		start := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			if depth != 0 {
				return nil, errors.New("xmp: unclosed element")
			}
			return ranges, nil
		}
		if err != nil {
			return nil, err
		}
		end := int(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > maxXMPDepth {
				return nil, errors.New("xmp: too deep")
			}
			switch {
			case skipDepth > 0:
				skipDepth++
			case isLocationProperty(t.Name):
				skipDepth, skipStart = 1, start
			default:
				rs, err := attrRanges(b[start:end], t.Attr)
				if err != nil {
					return nil, err
				}
				for _, r := range rs {
					ranges = append(ranges, [2]int{start + r[0], start + r[1]})
				}
			}
		case xml.EndElement:
			depth--
			if skipDepth > 0 {
				if skipDepth--; skipDepth == 0 {
					ranges = append(ranges, [2]int{skipStart, end})
				}
			}
		case xml.Directive:
			return nil, errors.New("xmp: DOCTYPE or other directive")
		}
	}
}

// attrRanges finds, in the raw start tag tag, the byte ranges of the
// attributes that attrs (the decoded attributes, in source order) marks as
// location properties.
func attrRanges(tag []byte, attrs []xml.Attr) ([][2]int, error) {
	raw, err := scanAttrs(tag)
	if err != nil {
		return nil, err
	}
	if len(raw) != len(attrs) {
		return nil, errors.New("xmp: attribute count mismatch")
	}
	var out [][2]int
	for i, a := range attrs {
		if a.Name.Space != "xmlns" && a.Name.Local != "xmlns" && isLocationProperty(a.Name) {
			out = append(out, raw[i])
		}
	}
	return out, nil
}

// scanAttrs returns the byte range of each attribute (name through closing
// quote) in a well-formed start tag.
func scanAttrs(tag []byte) ([][2]int, error) {
	i := 1 // past '<'
	for i < len(tag) && !isXMLSpace(tag[i]) && tag[i] != '>' && tag[i] != '/' {
		i++
	}
	var out [][2]int
	for {
		for i < len(tag) && isXMLSpace(tag[i]) {
			i++
		}
		if i >= len(tag) {
			return nil, errors.New("xmp: unterminated tag")
		}
		if tag[i] == '>' || tag[i] == '/' {
			return out, nil
		}
		nameStart := i
		for i < len(tag) && tag[i] != '=' && !isXMLSpace(tag[i]) {
			i++
		}
		for i < len(tag) && (isXMLSpace(tag[i]) || tag[i] == '=') {
			i++
		}
		if i >= len(tag) || (tag[i] != '"' && tag[i] != '\'') {
			return nil, errors.New("xmp: unquoted attribute")
		}
		q := tag[i]
		j := bytes.IndexByte(tag[i+1:], q)
		if j < 0 {
			return nil, errors.New("xmp: unterminated attribute")
		}
		i += j + 2
		out = append(out, [2]int{nameStart, i})
	}
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
