package privacy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxGIFXMP bounds an XMP application extension held in memory.
const maxGIFXMP = 16 << 20

// xmpGIFTrailer starts XMP's 258-byte "magic trailer" (0x01, 0xFF down to
// 0x00, then the block terminator) that makes the raw packet safe for
// readers skipping sub-blocks.
var xmpGIFTrailer = []byte{0x01, 0xFF, 0xFE, 0xFD}

// walkGIF copies a GIF from r to w, handing the XMP application extension
// ("XMP DataXMP") to h in place. GIF has no EXIF; every other block is
// copied byte for byte. The packet keeps its length and any byte values a
// blank packet has land in the magic trailer, so readers skipping the
// extension as sub-blocks still end at its terminator.
func walkGIF(r io.Reader, w io.Writer, h handler) error {
	br := bufio.NewReaderSize(r, 32<<10)
	var head [13]byte
	if _, err := io.ReadFull(br, head[:]); err != nil || (string(head[:6]) != "GIF87a" && string(head[:6]) != "GIF89a") {
		return errors.New("not a GIF")
	}
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	if err := copyColorTable(br, w, head[10]); err != nil {
		return err
	}
	for {
		intro, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("gif: truncated: %w", err)
		}
		if _, err := w.Write([]byte{intro}); err != nil {
			return err
		}
		switch intro {
		case 0x3B: // trailer
			_, err := io.Copy(w, br)
			return err
		case 0x21:
			err = gifExtension(br, w, h)
		case 0x2C:
			err = gifImage(br, w)
		default:
			return fmt.Errorf("gif: unknown block 0x%02x", intro)
		}
		if err != nil {
			return err
		}
	}
}

func copyColorTable(br *bufio.Reader, w io.Writer, packed byte) error {
	if packed&0x80 == 0 {
		return nil
	}
	n := int64(3 << ((packed & 7) + 1))
	if _, err := io.CopyN(w, br, n); err != nil {
		return fmt.Errorf("gif: truncated colour table: %w", err)
	}
	return nil
}

// gifImage copies an image descriptor, its colour table and its LZW data.
func gifImage(br *bufio.Reader, w io.Writer) error {
	var desc [10]byte // 9 descriptor bytes and the LZW minimum code size
	if _, err := io.ReadFull(br, desc[:9]); err != nil {
		return fmt.Errorf("gif: truncated image: %w", err)
	}
	if _, err := w.Write(desc[:9]); err != nil {
		return err
	}
	if err := copyColorTable(br, w, desc[8]); err != nil {
		return err
	}
	if _, err := io.CopyN(w, br, 1); err != nil {
		return fmt.Errorf("gif: truncated image: %w", err)
	}
	return copySubBlocks(br, w)
}

// copySubBlocks copies length-prefixed sub-blocks through the terminator.
func copySubBlocks(br *bufio.Reader, w io.Writer) error {
	for {
		n, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("gif: truncated: %w", err)
		}
		if _, err := w.Write([]byte{n}); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		if _, err := io.CopyN(w, br, int64(n)); err != nil {
			return fmt.Errorf("gif: truncated: %w", err)
		}
	}
}

// gifExtension copies an extension; XMP's goes through h.
func gifExtension(br *bufio.Reader, w io.Writer, h handler) error {
	label, err := br.ReadByte()
	if err != nil {
		return fmt.Errorf("gif: truncated: %w", err)
	}
	if _, err := w.Write([]byte{label}); err != nil {
		return err
	}
	if label != 0xFF {
		return copySubBlocks(br, w)
	}
	id, err := br.Peek(12)
	if err != nil || id[0] != 11 || string(id[1:12]) != "XMP DataXMP" {
		return copySubBlocks(br, w)
	}
	br.Discard(12)
	if _, err := w.Write(id); err != nil {
		return err
	}
	raw, lens, err := readSubBlocks(br)
	if err != nil {
		return err
	}
	if i := bytes.LastIndex(raw, xmpGIFTrailer); i >= 0 && len(raw)-i == 258 {
		h.xmp(raw[:i])
	} else {
		// No magic trailer: real sub-blocks. Only their data may change.
		for _, l := range lens {
			h.xmp(raw[l[0]:l[1]])
		}
	}
	_, err = w.Write(raw)
	return err
}

// readSubBlocks reads sub-blocks through the terminator and returns the raw
// bytes (length bytes included) and where each block's data lies in them.
func readSubBlocks(br *bufio.Reader) ([]byte, [][2]int, error) {
	var raw []byte
	var lens [][2]int
	for {
		n, err := br.ReadByte()
		if err != nil {
			return nil, nil, fmt.Errorf("gif: truncated: %w", err)
		}
		raw = append(raw, n)
		if n == 0 {
			return raw, lens, nil
		}
		if len(raw)+int(n) > maxGIFXMP {
			return nil, nil, fmt.Errorf("gif: XMP over %d bytes", maxGIFXMP)
		}
		start := len(raw)
		raw = append(raw, make([]byte, n)...)
		if _, err := io.ReadFull(br, raw[start:]); err != nil {
			return nil, nil, fmt.Errorf("gif: truncated: %w", err)
		}
		lens = append(lens, [2]int{start, len(raw)})
	}
}
