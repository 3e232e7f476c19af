package variant

import (
	"bytes"
	"encoding/binary"
)

// copyrightEXIF builds an EXIF block ("Exif\0\0" + little-endian TIFF)
// whose IFD0 holds only Copyright and Artist; nil when both are empty.
func copyrightEXIF(copyright, artist string) []byte {
	type entry struct {
		tag uint16
		val string
	}
	var entries []entry
	if artist != "" { // tags in ascending order
		entries = append(entries, entry{0x013B, artist})
	}
	if copyright != "" {
		entries = append(entries, entry{0x8298, copyright})
	}
	if len(entries) == 0 {
		return nil
	}
	var b, data bytes.Buffer
	le := func(w *bytes.Buffer, v any) { _ = binary.Write(w, binary.LittleEndian, v) }
	b.WriteString("Exif\x00\x00II*\x00")
	le(&b, uint32(8)) // IFD0 right after the TIFF header
	ifdLen := 2 + 12*len(entries) + 4
	le(&b, uint16(len(entries)))
	for _, e := range entries {
		v := append([]byte(e.val), 0)
		le(&b, e.tag)
		le(&b, uint16(2)) // ASCII
		le(&b, uint32(len(v)))
		if len(v) <= 4 {
			v = append(v, make([]byte, 4-len(v))...)
			b.Write(v)
			continue
		}
		le(&b, uint32(8+ifdLen+data.Len()))
		data.Write(v)
		if data.Len()%2 == 1 {
			data.WriteByte(0)
		}
	}
	le(&b, uint32(0)) // no next IFD
	b.Write(data.Bytes())
	return b.Bytes()
}
