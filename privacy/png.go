package privacy

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
)

const pngSignature = "\x89PNG\r\n\x1a\n"

// maxPNGMetadata bounds a metadata chunk held in memory (and what a
// compressed XMP chunk may inflate to).
const maxPNGMetadata = 16 << 20

// walkPNG copies a PNG from r to w, handing eXIf and XMP (iTXt
// "XML:com.adobe.xmp") to h in place; chunks it changed get a new CRC,
// every other chunk is copied byte for byte. ImageMagick's hex "Raw
// profile type ..." text chunks (legacy EXIF/XMP/IPTC carriers) are
// dropped when h is a stripper, since their contents cannot be edited in
// place.
func walkPNG(r io.Reader, w io.Writer, h handler) error {
	var sig [8]byte
	if _, err := io.ReadFull(r, sig[:]); err != nil || string(sig[:]) != pngSignature {
		return errors.New("not a PNG")
	}
	if _, err := w.Write(sig[:]); err != nil {
		return err
	}
	_, stripping := h.(*stripper)
	for {
		var head [8]byte
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return fmt.Errorf("png: truncated: %w", err)
		}
		n := binary.BigEndian.Uint32(head[:4])
		typ := string(head[4:8])
		if n > 1<<31-1 {
			return errors.New("png: chunk too long")
		}
		switch {
		case typ == "eXIf" || typ == "iTXt" || typ == "tEXt" || typ == "zTXt":
			if n > maxPNGMetadata {
				return fmt.Errorf("png: %s chunk over %d bytes", typ, maxPNGMetadata)
			}
			data, err := readN(r, int64(n)+4)
			if err != nil {
				return fmt.Errorf("png: truncated: %w", err)
			}
			if stripping && isRawProfile(typ, data[:n]) {
				continue
			}
			data, err = pngMetadata(typ, data[:n], h)
			if err != nil {
				return err
			}
			if err := writeChunk(w, typ, data); err != nil {
				return err
			}
		default:
			if _, err := w.Write(head[:]); err != nil {
				return err
			}
			if _, err := io.CopyN(w, r, int64(n)+4); err != nil {
				return fmt.Errorf("png: truncated: %w", err)
			}
		}
		if typ == "IEND" {
			_, err := io.Copy(w, r) // bytes after IEND are not ours to judge
			return err
		}
	}
}

// pngMetadata hands a metadata chunk's contents to h and returns them,
// possibly changed.
func pngMetadata(typ string, data []byte, h handler) ([]byte, error) {
	switch typ {
	case "eXIf":
		body := data
		if bytes.HasPrefix(body, []byte("Exif\x00\x00")) { // some writers keep the JPEG prefix
			body = body[6:]
		}
		h.exif(body)
	case "iTXt":
		return pngXMP(data, h)
	case "tEXt", "zTXt":
		return pngTextXMP(typ, data, h)
	}
	return data, nil
}

// pngTextXMP handles XMP that a writer put in tEXt (keyword NUL text) or
// zTXt (keyword NUL method compressed-text) instead of iTXt.
func pngTextXMP(typ string, data []byte, h handler) ([]byte, error) {
	kw, rest, ok := bytes.Cut(data, []byte{0})
	if !ok || string(kw) != "XML:com.adobe.xmp" {
		return data, nil
	}
	head := len(kw) + 1
	if typ == "tEXt" {
		h.xmp(data[head:])
		return data, nil
	}
	if len(rest) < 1 || rest[0] != 0 {
		return nil, errors.New("png: malformed zTXt")
	}
	return reflate(data, head+1, h)
}

// pngXMP handles an iTXt chunk: keyword NUL flag method lang NUL
// translated-keyword NUL text. Only XMP's keyword is handled.
func pngXMP(data []byte, h handler) ([]byte, error) {
	kw, rest, ok := bytes.Cut(data, []byte{0})
	if !ok || string(kw) != "XML:com.adobe.xmp" || len(rest) < 2 {
		return data, nil
	}
	compressed, method := rest[0], rest[1]
	i := len(data) - len(rest) + 2
	for range 2 { // language tag, translated keyword
		j := bytes.IndexByte(data[i:], 0)
		if j < 0 {
			return nil, errors.New("png: malformed iTXt")
		}
		i += j + 1
	}
	if compressed == 0 {
		h.xmp(data[i:])
		return data, nil
	}
	if method != 0 {
		return nil, errors.New("png: unknown iTXt compression")
	}
	return reflate(data, i, h)
}

// reflate inflates data[i:], hands the text to h and, when h changed it,
// returns data[:i] followed by the text deflated again.
func reflate(data []byte, i int, h handler) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(data[i:]))
	if err != nil {
		return nil, fmt.Errorf("png: compressed XMP: %w", err)
	}
	text, err := io.ReadAll(io.LimitReader(zr, maxPNGMetadata+1))
	if err != nil || len(text) > maxPNGMetadata {
		return nil, fmt.Errorf("png: compressed XMP does not inflate within %d bytes: %v", maxPNGMetadata, err)
	}
	before := string(text)
	h.xmp(text)
	if string(text) == before {
		return data, nil
	}
	var out bytes.Buffer
	out.Write(data[:i])
	zw := zlib.NewWriter(&out)
	zw.Write(text)
	zw.Close()
	return out.Bytes(), nil
}

// isRawProfile reports an ImageMagick "Raw profile type exif|xmp|iptc|app1|8bim"
// text chunk.
func isRawProfile(typ string, data []byte) bool {
	if typ != "tEXt" && typ != "zTXt" && typ != "iTXt" {
		return false
	}
	kw, _, _ := bytes.Cut(data, []byte{0})
	k := strings.ToLower(string(kw))
	return strings.HasPrefix(k, "raw profile type")
}

func writeChunk(w io.Writer, typ string, data []byte) error {
	var head [8]byte
	binary.BigEndian.PutUint32(head[:4], uint32(len(data)))
	copy(head[4:], typ)
	crc := crc32.NewIEEE()
	crc.Write(head[4:])
	crc.Write(data)
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc.Sum32())
	for _, b := range [][]byte{head[:], data, tail[:]} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
