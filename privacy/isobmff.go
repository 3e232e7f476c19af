package privacy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// HEIF and AVIF are ISOBMFF files: top-level boxes, with a meta box whose
// iinf lists items (the image, "Exif", "mime" application/rdf+xml for XMP)
// and whose iloc says where each item's bytes are, usually in mdat.
// Metadata items are edited in place at their file offsets; the lengths
// stay, so no iloc offset needs rewriting.

const (
	maxMetaBox  = 16 << 20 // the meta box is held in memory
	maxItemSpan = 64 << 20 // bytes held while a metadata item streams past
)

// ErrLayout reports an ISOBMFF file whose metadata lies before the meta box
// that locates it, which a single pass cannot edit.
var ErrLayout = errors.New("heif: metadata stored before the meta box")

type extent struct{ off, len uint64 }

type metaItem struct {
	id      uint32
	exif    bool // else XMP
	encoded bool // content_encoding set (e.g. deflate): cannot be edited in place
	inIdat  bool // construction method 1: offsets are within idat
	extents []extent
}

// walkISOBMFF copies an ISOBMFF file from r to w, handing its Exif and XMP
// items to h in place.
func walkISOBMFF(r io.Reader, w io.Writer, h handler) error {
	var pos uint64
	for {
		hdr, size, err := readBoxHeader(r)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		typ := string(hdr[4:8])
		if typ != "meta" {
			if _, err := w.Write(hdr); err != nil {
				return err
			}
			pos += uint64(len(hdr))
			if size == 0 { // to the end of the file
				_, err := io.Copy(w, r)
				return err
			}
			n, err := io.CopyN(w, r, int64(size)-int64(len(hdr)))
			pos += uint64(n)
			if err != nil {
				return fmt.Errorf("heif: truncated %q box: %w", typ, err)
			}
			continue
		}
		if size == 0 || size > maxMetaBox {
			return fmt.Errorf("heif: meta box of %d bytes", size)
		}
		rest, err := readN(r, int64(size)-int64(len(hdr)))
		if err != nil {
			return fmt.Errorf("heif: truncated meta box: %w", err)
		}
		box := append(hdr, rest...)
		items, idat, err := parseMeta(box[len(hdr):], len(hdr))
		if err != nil {
			return err
		}
		later, err := editInMeta(box, pos, items, idat, h)
		if err != nil {
			return err
		}
		if _, err := w.Write(box); err != nil {
			return err
		}
		pos += size
		return copyEditing(r, w, pos, later, h)
	}
}

// readBoxHeader reads a box header: size(4) type(4) [largesize(8)].
func readBoxHeader(r io.Reader) ([]byte, uint64, error) {
	hdr := make([]byte, 8, 16)
	if _, err := io.ReadFull(r, hdr); err != nil {
		if err == io.ErrUnexpectedEOF {
			return nil, 0, errors.New("heif: truncated box header")
		}
		return nil, 0, err
	}
	size := uint64(binary.BigEndian.Uint32(hdr))
	if size == 1 {
		hdr = hdr[:16]
		if _, err := io.ReadFull(r, hdr[8:]); err != nil {
			return nil, 0, errors.New("heif: truncated box header")
		}
		size = binary.BigEndian.Uint64(hdr[8:])
	}
	if size != 0 && size < uint64(len(hdr)) {
		return nil, 0, errors.New("heif: bad box size")
	}
	return hdr, size, nil
}

// box is a child box found inside a parent's payload.
type box struct {
	typ        string
	start, end int // payload, relative to the parent's payload
}

// children splits a payload into boxes.
func children(b []byte) ([]box, error) {
	var out []box
	for i := 0; i < len(b); {
		if len(b)-i < 8 {
			return nil, errors.New("heif: truncated box")
		}
		size := uint64(binary.BigEndian.Uint32(b[i:]))
		head := 8
		switch size {
		case 0:
			size = uint64(len(b) - i)
		case 1:
			if len(b)-i < 16 {
				return nil, errors.New("heif: truncated box")
			}
			size, head = binary.BigEndian.Uint64(b[i+8:]), 16
		}
		if size < uint64(head) || size > uint64(len(b)-i) {
			return nil, errors.New("heif: box overruns its parent")
		}
		out = append(out, box{typ: string(b[i+4 : i+8]), start: i + head, end: i + int(size)})
		i += int(size)
	}
	return out, nil
}

// parseMeta reads the meta payload (after the box header at headLen; it
// starts with version and flags) and returns its Exif and XMP items and the
// range of idat's payload within the whole meta box.
func parseMeta(p []byte, headLen int) ([]metaItem, [2]int, error) {
	var idat [2]int
	if len(p) < 4 {
		return nil, idat, errors.New("heif: short meta box")
	}
	kids, err := children(p[4:])
	if err != nil {
		return nil, idat, err
	}
	types := map[uint32]metaItem{}
	var locs map[uint32]metaItem
	for _, k := range kids {
		body := p[4+k.start : 4+k.end]
		switch k.typ {
		case "iinf":
			if err := parseIinf(body, types); err != nil {
				return nil, idat, err
			}
		case "iloc":
			if locs, err = parseIloc(body); err != nil {
				return nil, idat, err
			}
		case "idat":
			idat = [2]int{headLen + 4 + k.start, headLen + 4 + k.end}
		}
	}
	var items []metaItem
	for id, it := range types {
		loc, ok := locs[id]
		if !ok {
			continue
		}
		it.inIdat, it.extents = loc.inIdat, loc.extents
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].id < items[j].id })
	return items, idat, nil
}

// fullBox returns a full box's version and payload after version and flags.
func fullBox(b []byte) (byte, []byte, error) {
	if len(b) < 4 {
		return 0, nil, errors.New("heif: short box")
	}
	return b[0], b[4:], nil
}

// parseIinf records the Exif and XMP items of an iinf box.
func parseIinf(b []byte, out map[uint32]metaItem) error {
	v, p, err := fullBox(b)
	if err != nil {
		return err
	}
	skip := 2
	if v > 0 {
		skip = 4
	}
	if len(p) < skip {
		return errors.New("heif: short iinf")
	}
	kids, err := children(p[skip:])
	if err != nil {
		return err
	}
	for _, k := range kids {
		if k.typ != "infe" {
			continue
		}
		if it, ok := parseInfe(p[skip+k.start : skip+k.end]); ok {
			out[it.id] = it
		}
	}
	return nil
}

// parseInfe reads an item info entry (version 2 or 3) and reports whether
// it is an Exif or XMP item.
func parseInfe(b []byte) (metaItem, bool) {
	v, p, err := fullBox(b)
	if err != nil || v < 2 {
		return metaItem{}, false
	}
	var it metaItem
	if v == 2 {
		if len(p) < 8 {
			return metaItem{}, false
		}
		it.id, p = uint32(binary.BigEndian.Uint16(p)), p[2:]
	} else {
		if len(p) < 10 {
			return metaItem{}, false
		}
		it.id, p = binary.BigEndian.Uint32(p), p[4:]
	}
	typ := string(p[2:6]) // after item_protection_index
	p = p[6:]
	switch typ {
	case "Exif":
		it.exif = true
		return it, true
	case "mime":
		name, rest, _ := bytes.Cut(p, []byte{0}) // item_name
		_ = name
		ctype, rest, _ := bytes.Cut(rest, []byte{0})
		enc, _, _ := bytes.Cut(rest, []byte{0})
		if string(ctype) == "application/rdf+xml" {
			it.encoded = len(enc) > 0
			return it, true
		}
	}
	return metaItem{}, false
}

// parseIloc reads the item locations.
func parseIloc(b []byte) (map[uint32]metaItem, error) {
	v, p, err := fullBox(b)
	if err != nil {
		return nil, err
	}
	bad := errors.New("heif: malformed iloc")
	rd := &beReader{b: p}
	s1, s2 := rd.u(1), rd.u(1)
	offSize, lenSize, baseSize, idxSize := int(s1>>4), int(s1&15), int(s2>>4), int(s2&15)
	if v == 0 {
		idxSize = 0
	}
	var count uint64
	if v < 2 {
		count = rd.u(2)
	} else {
		count = rd.u(4)
	}
	out := map[uint32]metaItem{}
	for range count {
		if rd.err {
			return nil, bad
		}
		var it metaItem
		if v < 2 {
			it.id = uint32(rd.u(2))
		} else {
			it.id = uint32(rd.u(4))
		}
		method := uint64(0)
		if v > 0 {
			method = rd.u(2) & 15
		}
		dataRef := rd.u(2)
		base := rd.u(baseSize)
		n := rd.u(2)
		for range n {
			rd.u(idxSize)
			off, l := rd.u(offSize), rd.u(lenSize)
			if rd.err {
				return nil, bad
			}
			it.extents = append(it.extents, extent{off: base + off, len: l})
		}
		it.inIdat = method == 1
		if dataRef == 0 && method <= 1 {
			out[it.id] = it
		}
	}
	if rd.err {
		return nil, bad
	}
	return out, nil
}

// beReader reads big-endian unsigned integers of 0, 1, 2, 4 or 8 bytes,
// remembering any overrun.
type beReader struct {
	b   []byte
	err bool
}

func (r *beReader) u(n int) uint64 {
	if n != 0 && n != 1 && n != 2 && n != 4 && n != 8 || len(r.b) < n {
		r.err = true
		return 0
	}
	var v uint64
	for _, c := range r.b[:n] {
		v = v<<8 | uint64(c)
	}
	r.b = r.b[n:]
	return v
}

// editInMeta edits the items stored inside the meta box (in idat, or at
// file offsets that fall inside the box) and returns the items stored
// after it, with file offsets, for copyEditing.
func editInMeta(box []byte, metaPos uint64, items []metaItem, idat [2]int, h handler) ([]metaItem, error) {
	var later []metaItem
	metaEnd := metaPos + uint64(len(box))
	for _, it := range items {
		if len(it.extents) == 0 {
			continue
		}
		base, limit := metaPos, metaEnd // extents as file offsets
		if it.inIdat {
			base, limit = metaPos+uint64(idat[0]), metaPos+uint64(idat[1])
			for i := range it.extents {
				it.extents[i].off += uint64(idat[0]) + metaPos
			}
			if idat[1] == 0 {
				return nil, errors.New("heif: item in a missing idat")
			}
		}
		where, err := placeExtents(it.extents, base, limit)
		if err != nil {
			return nil, err
		}
		if where > 0 {
			later = append(later, it)
			continue
		}
		handleItem(it, box, metaPos, h)
	}
	return later, nil
}

// placeExtents says where extents lie: 0 inside [lo, hi), 1 after hi.
// Extents before lo, straddling, or of unknown length are refused.
func placeExtents(es []extent, lo, hi uint64) (int, error) {
	inside, after := 0, 0
	for _, e := range es {
		end := e.off + e.len
		switch {
		case e.len == 0 || end < e.off:
			return 0, errors.New("heif: metadata item of unknown length")
		case e.off >= lo && end <= hi:
			inside++
		case e.off >= hi:
			after++
		default:
			return 0, ErrLayout
		}
	}
	if inside > 0 && after > 0 {
		return 0, ErrLayout
	}
	if after > 0 {
		return 1, nil
	}
	return 0, nil
}

// handleItem gathers an item's extents from buf (which starts at file
// offset at), hands the item to h and scatters it back.
func handleItem(it metaItem, buf []byte, at uint64, h handler) {
	var data []byte
	for _, e := range it.extents {
		data = append(data, buf[e.off-at:e.off-at+e.len]...)
	}
	if it.exif {
		exifItem(data, h)
	} else {
		h.xmp(data)
	}
	for _, e := range it.extents {
		copy(buf[e.off-at:], data[:e.len])
		data = data[e.len:]
	}
}

// exifItem reads HEIF's Exif block: exif_tiff_header_offset(4), then that
// many bytes (usually "Exif\0\0"), then the TIFF structure.
func exifItem(data []byte, h handler) {
	if len(data) >= 4 {
		if off := uint64(binary.BigEndian.Uint32(data)); off <= uint64(len(data)-4) {
			h.exif(data[4+off:])
			return
		}
	}
	h.exif(data) // malformed: the stripper zeroes what it cannot parse
}

// copyEditing copies the rest of the file, starting at file offset pos,
// holding each metadata item's bytes long enough to edit them.
func copyEditing(r io.Reader, w io.Writer, pos uint64, items []metaItem, h handler) error {
	type group struct {
		start, end uint64
		items      []metaItem
	}
	var groups []group
	sort.Slice(items, func(i, j int) bool { return spanOf(items[i])[0] < spanOf(items[j])[0] })
	for _, it := range items {
		s := spanOf(it)
		if n := len(groups); n > 0 && s[0] < groups[n-1].end {
			groups[n-1].end = max(groups[n-1].end, s[1])
			groups[n-1].items = append(groups[n-1].items, it)
			continue
		}
		groups = append(groups, group{start: s[0], end: s[1], items: []metaItem{it}})
	}
	for _, g := range groups {
		if g.start < pos {
			return ErrLayout
		}
		if g.end-g.start > maxItemSpan {
			return fmt.Errorf("heif: metadata item spans more than %d bytes", maxItemSpan)
		}
		if _, err := io.CopyN(w, r, int64(g.start-pos)); err != nil {
			return fmt.Errorf("heif: truncated before metadata: %w", err)
		}
		buf, err := readN(r, int64(g.end-g.start))
		if err != nil {
			return fmt.Errorf("heif: truncated metadata: %w", err)
		}
		for _, it := range g.items {
			handleItem(it, buf, g.start, h)
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		pos = g.end
	}
	_, err := io.Copy(w, r)
	return err
}

// spanOf is the smallest file range holding all of an item's extents.
func spanOf(it metaItem) [2]uint64 {
	s := [2]uint64{it.extents[0].off, it.extents[0].off + it.extents[0].len}
	for _, e := range it.extents[1:] {
		s[0], s[1] = min(s[0], e.off), max(s[1], e.off+e.len)
	}
	return s
}
