package privacy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// maxWebPMetadata bounds an EXIF or XMP chunk held in memory.
const maxWebPMetadata = 16 << 20

// walkWebP copies a WebP (RIFF) file from r to w, handing the EXIF and
// "XMP " chunks to h in place. Chunks keep their sizes, so the RIFF size
// and the VP8X flags stay right without rewriting the file header (which
// a stream has already written by the time the metadata, stored after the
// image data, arrives).
func walkWebP(r io.Reader, w io.Writer, h handler) error {
	var head [12]byte
	if _, err := io.ReadFull(r, head[:]); err != nil || string(head[:4]) != "RIFF" || string(head[8:]) != "WEBP" {
		return errors.New("not a WebP")
	}
	if _, err := w.Write(head[:]); err != nil {
		return err
	}
	left := int64(binary.LittleEndian.Uint32(head[4:8])) - 4 // bytes of chunks the RIFF header claims
	for left > 0 {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return fmt.Errorf("webp: truncated: %w", err)
		}
		fourcc := string(ch[:4])
		n := int64(binary.LittleEndian.Uint32(ch[4:]))
		padded := n + n&1
		if 8+padded > left {
			return errors.New("webp: chunk overruns the RIFF size")
		}
		left -= 8 + padded
		if _, err := w.Write(ch[:]); err != nil {
			return err
		}
		if fourcc != "EXIF" && fourcc != "XMP " {
			if _, err := io.CopyN(w, r, padded); err != nil {
				return fmt.Errorf("webp: truncated: %w", err)
			}
			continue
		}
		if n > maxWebPMetadata {
			return fmt.Errorf("webp: %s chunk over %d bytes", fourcc, maxWebPMetadata)
		}
		data, err := readN(r, padded)
		if err != nil {
			return fmt.Errorf("webp: truncated: %w", err)
		}
		if fourcc == "XMP " {
			h.xmp(data[:n])
		} else if body := data[:n]; bytes.HasPrefix(body, []byte("Exif\x00\x00")) {
			h.exif(body[6:]) // some writers keep the JPEG prefix
		} else {
			h.exif(body)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	_, err := io.Copy(w, r) // bytes past the RIFF size
	return err
}
