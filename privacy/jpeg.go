package privacy

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
)

const (
	jpegSOI  = 0xD8
	jpegEOI  = 0xD9
	jpegSOS  = 0xDA
	jpegAPP1 = 0xE1
	jpegAPPD = 0xED

	xmpExtSignature = "http://ns.adobe.com/xmp/extension/\x00"
	// maxJPEGHeader bounds the segments held in memory before the first scan.
	maxJPEGHeader = 64 << 20
	// maxJPEGImages bounds the images of one file (MPF/MPO hold several).
	maxJPEGImages = 64
)

var errNotJPEG = errors.New("not a JPEG")

// jpegWalker copies a JPEG stream from r to w, handing each metadata
// segment to h in place. Segments keep their lengths, so offsets that
// point into the file (MPF's secondary images) stay right. Images that
// follow the first one's EOI (MPF/MPO: Ultra HDR gain maps, stereo pairs,
// depth maps) are walked too; other trailing bytes are copied unchanged.
type jpegWalker struct {
	r *bufio.Reader
	w io.Writer
	h handler
}

func walkJPEG(r io.Reader, w io.Writer, h handler) error {
	jw := &jpegWalker{r: bufio.NewReaderSize(r, 64<<10), w: w, h: h}
	for n := 0; ; n++ {
		head, err := jw.r.Peek(2)
		if n > 0 && (err != nil || head[0] != 0xFF || head[1] != jpegSOI || n >= maxJPEGImages) {
			_, err := io.Copy(w, jw.r) // trailing data that is not another JPEG
			return err
		}
		if err := jw.image(); err != nil {
			return err
		}
	}
}

// image walks one JPEG from SOI to EOI.
func (jw *jpegWalker) image() error {
	var soi [2]byte
	if _, err := io.ReadFull(jw.r, soi[:]); err != nil || soi[0] != 0xFF || soi[1] != jpegSOI {
		return errNotJPEG
	}
	if _, err := jw.w.Write(soi[:]); err != nil {
		return err
	}
	header, err := jw.header()
	if err != nil {
		return err
	}
	jw.handleHeader(header)
	for _, seg := range header {
		if _, err := jw.w.Write(seg); err != nil {
			return err
		}
	}
	return jw.scans()
}

// header reads the segments before the first SOS (the SOS included).
func (jw *jpegWalker) header() ([][]byte, error) {
	var segs [][]byte
	total := 0
	for {
		seg, err := jw.segment()
		if err != nil {
			return nil, err
		}
		if total += len(seg); total > maxJPEGHeader {
			return nil, fmt.Errorf("jpeg: more than %d bytes of metadata", maxJPEGHeader)
		}
		segs = append(segs, seg)
		switch seg[1] {
		case jpegSOS:
			return segs, nil
		case jpegEOI:
			return nil, errors.New("jpeg: EOI before any scan")
		}
	}
}

// segment reads one marker segment: FF xx, and for markers with a length,
// the length and payload. Fill bytes (FF FF ...) before a marker are dropped
// from the returned segment but written through, so the output matches.
func (jw *jpegWalker) segment() ([]byte, error) {
	c, err := jw.r.ReadByte()
	if err != nil || c != 0xFF {
		return nil, fmt.Errorf("jpeg: expected a marker: %w", errOrBad(err))
	}
	m, err := jw.r.ReadByte()
	for err == nil && m == 0xFF {
		if _, err = jw.w.Write([]byte{0xFF}); err != nil {
			return nil, err
		}
		m, err = jw.r.ReadByte()
	}
	if err != nil {
		return nil, fmt.Errorf("jpeg: truncated marker: %w", err)
	}
	if m == jpegEOI || m == jpegSOI || m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
		return []byte{0xFF, m}, nil
	}
	var lb [2]byte
	if _, err := io.ReadFull(jw.r, lb[:]); err != nil {
		return nil, fmt.Errorf("jpeg: truncated segment: %w", err)
	}
	n := int(binary.BigEndian.Uint16(lb[:]))
	if n < 2 {
		return nil, errors.New("jpeg: bad segment length")
	}
	seg := make([]byte, 2+n)
	seg[0], seg[1], seg[2], seg[3] = 0xFF, m, lb[0], lb[1]
	if _, err := io.ReadFull(jw.r, seg[4:]); err != nil {
		return nil, fmt.Errorf("jpeg: truncated segment: %w", err)
	}
	return seg, nil
}

func errOrBad(err error) error {
	if err != nil {
		return err
	}
	return errNotJPEG
}

// scans copies entropy-coded data and the segments between scans up to and
// including EOI. Segments after the first scan go through the handler one
// by one.
func (jw *jpegWalker) scans() error {
	for {
		if err := jw.entropy(); err != nil {
			return err
		}
		seg, err := jw.segment()
		if err != nil {
			return err
		}
		jw.handleSegment(seg)
		if _, err := jw.w.Write(seg); err != nil {
			return err
		}
		if seg[1] == jpegEOI {
			return nil
		}
		if seg[1] != jpegSOS {
			// Tables or metadata between scans: more segments may follow
			// before the next SOS, with no entropy data in between.
			if err := jw.untilScan(); err != nil {
				return err
			}
		}
	}
}

// untilScan handles segments up to the next SOS or EOI, without entropy
// data between them.
func (jw *jpegWalker) untilScan() error {
	for {
		b, err := jw.r.Peek(2)
		if err != nil {
			return fmt.Errorf("jpeg: truncated: %w", err)
		}
		if b[0] != 0xFF || b[1] == 0x00 || (b[1] >= 0xD0 && b[1] <= 0xD7) {
			return errors.New("jpeg: data where a marker belongs")
		}
		if b[1] == jpegSOS || b[1] == jpegEOI {
			return nil // the caller's loop reads it after an empty entropy run
		}
		seg, err := jw.segment()
		if err != nil {
			return err
		}
		jw.handleSegment(seg)
		if _, err := jw.w.Write(seg); err != nil {
			return err
		}
	}
}

// entropy copies entropy-coded bytes up to the next marker that is not a
// stuffed byte (FF 00) or a restart (FF D0..D7), leaving that marker unread.
func (jw *jpegWalker) entropy() error {
	for {
		chunk, err := jw.r.ReadSlice(0xFF)
		if err == bufio.ErrBufferFull {
			if _, err := jw.w.Write(chunk); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("jpeg: truncated scan: %w", err)
		}
		jw.r.UnreadByte() // the FF goes back: look at it with what follows
		if _, err := jw.w.Write(chunk[:len(chunk)-1]); err != nil {
			return err
		}
		pair, err := jw.r.Peek(2)
		if err != nil {
			return fmt.Errorf("jpeg: truncated scan: %w", err)
		}
		switch next := pair[1]; {
		case next == 0x00 || (next >= 0xD0 && next <= 0xD7): // stuffed byte, restart marker
			if _, err := jw.w.Write([]byte{0xFF, next}); err != nil {
				return err
			}
			jw.r.Discard(2)
		case next == 0xFF: // fill byte before a marker
			if _, err := jw.w.Write([]byte{0xFF}); err != nil {
				return err
			}
			jw.r.Discard(1)
		default:
			return nil // a marker: segment() reads it
		}
	}
}

// handleSegment gives one metadata segment to the handler.
func (jw *jpegWalker) handleSegment(seg []byte) {
	if len(seg) < 4 {
		return
	}
	p := seg[4:]
	switch {
	case seg[1] == jpegAPP1 && len(p) >= 6 && bytes.HasPrefix(p, []byte("Exif\x00")):
		jw.h.exif(p[6:])
	case seg[1] == jpegAPP1 && bytes.HasPrefix(p, []byte(xmpSignature)):
		jw.h.xmp(p[len(xmpSignature):])
	case seg[1] == jpegAPP1 && bytes.HasPrefix(p, []byte(xmpExtSignature)):
		// Outside the header an extended XMP chunk cannot be reassembled.
		jw.h.xmp(p[len(xmpExtSignature):])
	case seg[1] == jpegAPPD && bytes.HasPrefix(p, []byte(irbSignature)):
		jw.h.irb(p[len(irbSignature):])
	}
}

// handleHeader gives the header's metadata segments to the handler, with
// extended XMP reassembled from its chunks first.
func (jw *jpegWalker) handleHeader(segs [][]byte) {
	ext := map[string][]extChunk{}
	var mainXMP []byte
	for _, seg := range segs {
		if c, ok := parseExtChunk(seg); ok {
			ext[c.guid] = append(ext[c.guid], c)
			continue
		}
		if seg[1] == jpegAPP1 && len(seg) > 4 && bytes.HasPrefix(seg[4:], []byte(xmpSignature)) {
			mainXMP = seg[4+len(xmpSignature):]
		}
		jw.handleSegment(seg)
	}
	for guid, chunks := range ext {
		jw.handleExtendedXMP(guid, chunks, mainXMP)
	}
}

// extChunk is one APP1 chunk of extended XMP: GUID(32 hex) full-length(4)
// offset(4) data.
type extChunk struct {
	guid       string
	guidBytes  []byte // in the segment, for rewriting
	fullLength uint32
	offset     uint32
	data       []byte // in the segment
}

func parseExtChunk(seg []byte) (extChunk, bool) {
	if seg[1] != jpegAPP1 || len(seg) < 4 || !bytes.HasPrefix(seg[4:], []byte(xmpExtSignature)) {
		return extChunk{}, false
	}
	p := seg[4+len(xmpExtSignature):]
	if len(p) < 40 {
		return extChunk{}, false
	}
	return extChunk{guid: string(p[:32]), guidBytes: p[:32], fullLength: binary.BigEndian.Uint32(p[32:]),
		offset: binary.BigEndian.Uint32(p[36:]), data: p[40:]}, true
}

// handleExtendedXMP reassembles one extended packet, hands it over and
// scatters it back. When the packet changed, its GUID (the MD5 of the
// packet, named by xmpNote:HasExtendedXMP in the main packet) is updated
// in every chunk and in the main packet: same length, so in place.
// Chunks that do not fit together are blanked.
func (jw *jpegWalker) handleExtendedXMP(guid string, chunks []extChunk, mainXMP []byte) {
	full := chunks[0].fullLength
	sum := 0
	fits := true
	for _, c := range chunks {
		fits = fits && c.fullLength == full && uint64(c.offset)+uint64(len(c.data)) <= uint64(full)
		sum += len(c.data)
	}
	fits = fits && uint64(sum) == uint64(full) // every byte present: no allocation past what was read
	if !fits {
		for _, c := range chunks {
			jw.h.xmp(c.data) // each alone is not well-formed XML: the stripper blanks it
		}
		return
	}
	packet := make([]byte, full)
	for _, c := range chunks {
		copy(packet[c.offset:], c.data)
	}
	before := md5.Sum(packet)
	jw.h.xmp(packet)
	after := md5.Sum(packet)
	if before == after {
		return
	}
	for _, c := range chunks {
		copy(c.data, packet[c.offset:])
	}
	newGUID := []byte(strings.ToUpper(hex.EncodeToString(after[:])))
	for _, c := range chunks {
		copy(c.guidBytes, newGUID)
	}
	if i := bytes.Index(mainXMP, []byte(guid)); i >= 0 {
		copy(mainXMP[i:], newGUID)
	}
}
