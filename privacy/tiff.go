package privacy

import (
	"encoding/binary"
	"errors"
)

// TIFF tags this package cares about.
const (
	tagExifIFD    = 0x8769
	tagGPSIFD     = 0x8825
	tagInteropIFD = 0xA005
)

var errBadTIFF = errors.New("malformed TIFF/EXIF structure")

// tiff is a read-only view of a TIFF structure (an EXIF block) with bounds
// checks everywhere: offsets come from untrusted files.
type tiff struct {
	b   []byte
	ord binary.ByteOrder
}

// entry is one IFD entry.
type entry struct {
	pos   int // offset of the 12-byte entry in b
	tag   uint16
	typ   uint16
	count uint32
}

// typeSize is the byte size of one value of each TIFF type (0 = unknown).
func typeSize(typ uint16) int {
	switch typ {
	case 1, 2, 6, 7: // BYTE ASCII SBYTE UNDEFINED
		return 1
	case 3, 8: // SHORT SSHORT
		return 2
	case 4, 9, 11, 13: // LONG SLONG FLOAT IFD
		return 4
	case 5, 10, 12: // RATIONAL SRATIONAL DOUBLE
		return 8
	}
	return 0
}

func parseTIFF(b []byte) (*tiff, error) {
	if len(b) < 8 {
		return nil, errBadTIFF
	}
	t := &tiff{b: b}
	switch string(b[:4]) {
	case "II*\x00":
		t.ord = binary.LittleEndian
	case "MM\x00*":
		t.ord = binary.BigEndian
	default:
		return nil, errBadTIFF
	}
	return t, nil
}

func (t *tiff) u16(off int) uint16 { return t.ord.Uint16(t.b[off:]) }
func (t *tiff) u32(off int) uint32 { return t.ord.Uint32(t.b[off:]) }

// ifd0 is the offset of the first IFD.
func (t *tiff) ifd0() uint32 { return t.u32(4) }

// maxEntries bounds the entries read from one IFD.
const maxEntries = 4096

// entries lists the IFD at off and the offset of the next IFD (0 = none).
func (t *tiff) entries(off uint32) ([]entry, uint32, error) {
	if uint64(off)+2 > uint64(len(t.b)) || off < 8 {
		return nil, 0, errBadTIFF
	}
	n := int(t.u16(int(off)))
	end := int(off) + 2 + 12*n
	if n > maxEntries || end+4 > len(t.b) {
		return nil, 0, errBadTIFF
	}
	es := make([]entry, n)
	for i := range es {
		p := int(off) + 2 + 12*i
		es[i] = entry{pos: p, tag: t.u16(p), typ: t.u16(p + 2), count: t.u32(p + 4)}
	}
	return es, t.u32(end), nil
}

// valueRange returns where e's value lies in b: inside the entry when it
// fits in 4 bytes, else at the offset the entry holds.
func (t *tiff) valueRange(e entry) (start, end int, ok bool) {
	size := uint64(typeSize(e.typ)) * uint64(e.count)
	if typeSize(e.typ) == 0 {
		return 0, 0, false
	}
	if size <= 4 {
		return e.pos + 8, e.pos + 8 + int(size), true
	}
	off := uint64(t.u32(e.pos + 8))
	if off+size > uint64(len(t.b)) {
		return 0, 0, false
	}
	return int(off), int(off + size), true
}

// value returns e's value bytes, nil when out of bounds.
func (t *tiff) value(e entry) []byte {
	s, end, ok := t.valueRange(e)
	if !ok {
		return nil
	}
	return t.b[s:end]
}

// pointer returns the IFD offset that an IFD-pointer entry holds.
func (t *tiff) pointer(e entry) (uint32, bool) {
	if e.count != 1 || (e.typ != 4 && e.typ != 13) {
		return 0, false
	}
	return t.u32(e.pos + 8), true
}

// ifds walks IFD0, the IFDs chained after it and the Exif and Interop
// sub-IFDs, calling fn with each IFD's offset and entries. Loops and
// absurd counts are refused.
func (t *tiff) ifds(fn func(off uint32, es []entry) error) error {
	seen := map[uint32]bool{}
	queue := []uint32{t.ifd0()}
	for len(queue) > 0 {
		off := queue[0]
		queue = queue[1:]
		if off == 0 || seen[off] {
			continue
		}
		if len(seen) >= 32 {
			return errBadTIFF
		}
		seen[off] = true
		es, next, err := t.entries(off)
		if err != nil {
			return err
		}
		if err := fn(off, es); err != nil {
			return err
		}
		queue = append(queue, next)
		for _, e := range es {
			if e.tag == tagExifIFD || e.tag == tagInteropIFD {
				if p, ok := t.pointer(e); ok {
					queue = append(queue, p)
				}
			}
		}
	}
	return nil
}

// find returns the first entry with tag in es.
func find(es []entry, tag uint16) (entry, bool) {
	for _, e := range es {
		if e.tag == tag {
			return e, true
		}
	}
	return entry{}, false
}

// stripTIFFGPS removes the GPS IFD from the TIFF structure in b, in place
// and without changing b's length: the GPSInfo pointer entry is taken out
// of its IFD (the later entries and the next-IFD offset move up, the 12
// freed bytes are zeroed) and the GPS IFD with its values is zeroed. It
// reports whether anything was removed. On a malformed structure it
// returns errBadTIFF and b may be partly changed; the caller then blanks
// the whole block.
func stripTIFFGPS(b []byte) (bool, error) {
	t, err := parseTIFF(b)
	if err != nil {
		return false, err
	}
	type hit struct{ ifd, gps uint32 }
	var hits []hit
	err = t.ifds(func(off uint32, es []entry) error {
		if e, ok := find(es, tagGPSIFD); ok {
			gps, _ := t.pointer(e)
			hits = append(hits, hit{off, gps})
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, h := range hits {
		if err := t.removeTag(h.ifd, tagGPSIFD); err != nil {
			return false, err
		}
		t.zeroIFD(h.gps)
	}
	if len(hits) > 0 && hasGPS(b) {
		return false, errBadTIFF // a crafted layout survived; the caller blanks it all
	}
	return len(hits) > 0, nil
}

// removeTag takes every entry with tag out of the IFD at off, in place.
func (t *tiff) removeTag(off uint32, tag uint16) error {
	for {
		es, _, err := t.entries(off)
		if err != nil {
			return err
		}
		e, ok := find(es, tag)
		if !ok {
			return nil
		}
		n := len(es)
		end := int(off) + 2 + 12*n + 4 // past the next-IFD offset
		copy(t.b[e.pos:], t.b[e.pos+12:end])
		clear(t.b[end-12 : end])
		t.ord.PutUint16(t.b[off:], uint16(n-1))
	}
}

// zeroIFD zeroes the IFD at off and every out-of-line value it points to,
// as far as they lie inside b.
func (t *tiff) zeroIFD(off uint32) {
	es, _, err := t.entries(off)
	if err != nil {
		return
	}
	for _, e := range es {
		if s, end, ok := t.valueRange(e); ok && s >= 8 {
			clear(t.b[s:end])
		}
	}
	clear(t.b[off : int(off)+2+12*len(es)+4])
}

// hasGPS reports whether a TIFF structure still points to a GPS IFD, or
// cannot be walked far enough to tell.
func hasGPS(b []byte) bool {
	t, err := parseTIFF(b)
	if err != nil {
		return false
	}
	found := false
	err = t.ifds(func(_ uint32, es []entry) error {
		_, ok := find(es, tagGPSIFD)
		found = found || ok
		return nil
	})
	return found || err != nil // a structure that cannot be walked cannot be vouched for
}
