package main

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// withJPEGComment inserts a COM segment right after SOI.
func withJPEGComment(s source, rel string, comment []byte) ([]byte, error) {
	jpg, err := s.read(rel)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(jpg, []byte{0xFF, 0xD8}) {
		return nil, errors.New("not a JPEG")
	}
	seg := []byte{0xFF, 0xFE, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(comment)+2))
	out := append([]byte{0xFF, 0xD8}, seg...)
	out = append(out, comment...)
	return append(out, jpg[2:]...), nil
}

// hugeJPEG rewrites the frame header's dimensions to 65500x65500.
func hugeJPEG(s source, rel string) ([]byte, error) {
	b, err := s.read(rel)
	if err != nil {
		return nil, err
	}
	for i := 2; i+9 < len(b); {
		if b[i] != 0xFF {
			return nil, errors.New("lost in the JPEG segments")
		}
		m := b[i+1]
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if m >= 0xC0 && m <= 0xC2 { // SOF0..2: length, precision, height, width
			binary.BigEndian.PutUint16(b[i+5:], 65500)
			binary.BigEndian.PutUint16(b[i+7:], 65500)
			return b, nil
		}
		i += 2 + n
	}
	return nil, errors.New("no SOF")
}

// pngChunk writes one chunk with its CRC.
func pngChunk(w *bytes.Buffer, typ string, data []byte) {
	binary.Write(w, binary.BigEndian, uint32(len(data)))
	w.WriteString(typ)
	w.Write(data)
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	binary.Write(w, binary.BigEndian, crc.Sum32())
}

func ihdr(width, height uint32, depth, colorType byte) []byte {
	b := make([]byte, 13)
	binary.BigEndian.PutUint32(b, width)
	binary.BigEndian.PutUint32(b[4:], height)
	b[8], b[9] = depth, colorType
	return b
}

// hugePNG claims 100000x100000 RGBA; the IDAT holds one zlib-compressed
// row only.
func hugePNG() []byte {
	var w bytes.Buffer
	w.WriteString("\x89PNG\r\n\x1a\n")
	pngChunk(&w, "IHDR", ihdr(100000, 100000, 8, 6))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(make([]byte, 1+4*100000))
	zw.Close()
	pngChunk(&w, "IDAT", z.Bytes())
	pngChunk(&w, "IEND", nil)
	return w.Bytes()
}

// bombPNG is a complete, valid 1-bit grayscale PNG of zeros.
func bombPNG(width, height int) ([]byte, error) {
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	row := make([]byte, 1+(width+7)/8) // filter byte 0, then the bits
	for range height {
		zw.Write(row)
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	var w bytes.Buffer
	w.WriteString("\x89PNG\r\n\x1a\n")
	pngChunk(&w, "IHDR", ihdr(uint32(width), uint32(height), 1, 0))
	pngChunk(&w, "IDAT", z.Bytes())
	pngChunk(&w, "IEND", nil)
	return w.Bytes(), nil
}

// bitWriter packs bits least-significant first, as VP8L and GIF's LZW do.
type bitWriter struct {
	b    []byte
	nbit uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := range n {
		if w.nbit%8 == 0 {
			w.b = append(w.b, 0)
		}
		if v>>i&1 == 1 {
			w.b[len(w.b)-1] |= 1 << (w.nbit % 8)
		}
		w.nbit++
	}
}

// bombWebP is a lossless (VP8L) WebP of width x height opaque black
// pixels: no transforms, no color cache, and five prefix codes that each
// have a single symbol, so every pixel is coded in zero bits.
func bombWebP(width, height uint32) []byte {
	var bw bitWriter
	bw.write(0x2f, 8)      // VP8L signature
	bw.write(width-1, 14)  //
	bw.write(height-1, 14) //
	bw.write(0, 1)         // alpha is used: no
	bw.write(0, 3)         // version 0
	bw.write(0, 1)         // no transform
	bw.write(0, 1)         // no color cache
	bw.write(0, 1)         // no meta prefix codes
	for code := range 5 {  // green, red, blue, alpha, distance
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		if code == 3 {
			bw.write(1, 1)   // an 8-bit symbol:
			bw.write(255, 8) // alpha 255
		} else {
			bw.write(0, 1) // a 1-bit symbol:
			bw.write(0, 1) // 0
		}
	}
	data := bw.b
	var w bytes.Buffer
	chunk := len(data) + len(data)%2
	w.WriteString("RIFF")
	binary.Write(&w, binary.LittleEndian, uint32(4+8+chunk))
	w.WriteString("WEBPVP8L")
	binary.Write(&w, binary.LittleEndian, uint32(len(data)))
	w.Write(data)
	if len(data)%2 == 1 {
		w.WriteByte(0)
	}
	return w.Bytes()
}

// manyFramesGIF is a 1x1 two-colour GIF with the given number of frames,
// each an image descriptor and a 2-byte LZW stream (clear, 0, end).
func manyFramesGIF(frames int) []byte {
	var w bytes.Buffer
	w.WriteString("GIF89a")
	w.Write([]byte{1, 0, 1, 0, 0x80, 0, 0}) // 1x1, global colour table of 2
	w.Write([]byte{0, 0, 0, 255, 255, 255})
	w.Write([]byte{0x21, 0xFF, 11})
	w.WriteString("NETSCAPE2.0")
	w.Write([]byte{3, 1, 0, 0, 0}) // loop forever
	frame := []byte{0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0}
	for range frames {
		w.Write(frame)
	}
	w.WriteByte(0x3B)
	return w.Bytes()
}
