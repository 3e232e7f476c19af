package delivery_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash/crc32"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/vips"
)

const secret = "SECRET-7f3a9c-do-not-leak"

// pngWithChunk inserts a chunk right after IHDR.
func pngWithChunk(t *testing.T, png []byte, typ string, data []byte) []byte {
	t.Helper()
	var c bytes.Buffer
	_ = binary.Write(&c, binary.BigEndian, uint32(len(data)))
	c.WriteString(typ)
	c.Write(data)
	_ = binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	at := 8 + 12 + int(binary.BigEndian.Uint32(png[8:]))
	return append(append(append([]byte{}, png[:at]...), c.Bytes()...), png[at:]...)
}

// zlibBytes compresses s (zTXt and compressed iTXt).
func zlibBytes(s string) []byte {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// smallJPEG is a JPEG without metadata at a low quality, so that a q:80
// re-encode is larger and the original would be served instead.
func smallJPEG(t *testing.T) []byte {
	t.Helper()
	b := testenv.ReadImage(t, "exif-orientation/Landscape_1.jpg")
	src, err := vips.SourceReader(context.Background(), bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	im, err := vips.Thumbnail(src, vips.ThumbnailOptions{Width: 64, Height: 64, NoRotate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	out, err := im.Save(context.Background(), "jpeg", vips.SaveOptions{Quality: 20, Strip: true})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// jpegWithSegment inserts a marker segment right after SOI.
func jpegWithSegment(jpeg []byte, marker byte, data []byte) []byte {
	seg := []byte{0xFF, marker, byte((len(data) + 2) >> 8), byte(len(data) + 2)}
	return append(append(append([]byte{0xFF, 0xD8}, seg...), data...), jpeg[2:]...)
}

// webpWithChunk adds a chunk (EXIF or XMP ) after the image of a lossy
// WebP, in the extended format with the chunk's flag set.
func webpWithChunk(t *testing.T, webp []byte, fourcc string, flag byte, data []byte, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	switch string(webp[12:16]) {
	case "VP8X": // libvips writes the extended format: set the flag
		b.Write(webp[12:])
		b.Bytes()[8] |= flag
	case "VP8 ":
		b.WriteString("VP8X")
		_ = binary.Write(&b, binary.LittleEndian, uint32(10))
		b.Write([]byte{flag, 0, 0, 0, byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16), byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)})
		b.Write(webp[12:])
	default:
		t.Fatalf("unexpected WebP layout: %q", webp[12:16])
	}
	b.WriteString(fourcc)
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	if len(data)%2 == 1 {
		b.WriteByte(0)
	}
	out := append([]byte("RIFF\x00\x00\x00\x00WEBP"), b.Bytes()...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// gifWithExtension inserts an extension block after the global colour
// table.
func gifWithExtension(gif []byte, ext []byte) []byte {
	at := 13
	if gif[10]&0x80 != 0 {
		at += 3 << (gif[10]&7 + 1)
	}
	return append(append(append([]byte{}, gif[:at]...), ext...), gif[at:]...)
}

func subBlocks(s string) []byte { return append(append([]byte{byte(len(s))}, s...), 0) }

// Regression (issue 10 item 6): a public PNG with a tEXt chunk holding a
// secret was served byte for byte as the "original instead" of q:80,
// rs:fit:0:0 and rs:fit:100:100 variants, because only EXIF, XMP, IPTC
// and Photoshop blocks counted as metadata. Every ancillary metadata
// chunk, segment, box or extension of every format counts now: no
// variant of these files carries the secret.
func TestVariantsCarryNoMetadata(t *testing.T) {
	e := newEnv(t, nil, nil)
	png := testenv.ReadImage(t, "alpha/full-transparent.png")
	jpeg := smallJPEG(t)
	webp := lossyWebP(t, jpeg)
	gif := testenv.ReadImage(t, "animated/dispose-previous.gif")
	itxt := "Comment\x00\x00\x00en\x00Kommentar\x00" + secret
	zsecret := zlibBytes(secret)
	// Each file, and the bytes of its metadata that no variant may carry.
	files := map[string]struct{ b, needle []byte }{
		"png tEXt":          {pngWithChunk(t, png, "tEXt", []byte("Comment\x00"+secret)), []byte(secret)},
		"png zTXt":          {pngWithChunk(t, png, "zTXt", append([]byte("Comment\x00\x00"), zsecret...)), zsecret},
		"png iTXt":          {pngWithChunk(t, png, "iTXt", []byte(itxt)), []byte(secret)},
		"png iTXt zipped":   {pngWithChunk(t, png, "iTXt", append([]byte("Comment\x00\x01\x00en\x00\x00"), zsecret...)), zsecret},
		"png eXIf":          {pngWithChunk(t, png, "eXIf", []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x00"+secret)), []byte(secret)},
		"png tIME":          {pngWithChunk(t, png, "tIME", []byte(secret[:7])), []byte(secret[:7])},
		"png private chunk": {pngWithChunk(t, png, "prVt", []byte(secret)), []byte(secret)},
		"png after IEND":    {append(append([]byte{}, png...), secret...), []byte(secret)},
		"jpeg COM":          {jpegWithSegment(jpeg, 0xFE, []byte(secret)), []byte(secret)},
		"jpeg APP1 XMP":     {jpegWithSegment(jpeg, 0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>"+secret+"</x:xmpmeta>")), []byte(secret)},
		"jpeg APP12":        {jpegWithSegment(jpeg, 0xEC, []byte("Ducky\x00"+secret)), []byte(secret)},
		"jpeg APP15":        {jpegWithSegment(jpeg, 0xEF, []byte(secret)), []byte(secret)},
		"jpeg after EOI":    {append(append([]byte{}, jpeg...), secret...), []byte(secret)},
		"webp EXIF":         {webpWithChunk(t, webp, "EXIF", 0x08, []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x00"+secret), 64, 48), []byte(secret)},
		"webp XMP":          {webpWithChunk(t, webp, "XMP ", 0x04, []byte("<x:xmpmeta>"+secret+"</x:xmpmeta>"), 64, 48), []byte(secret)},
		"gif comment":       {gifWithExtension(gif, append([]byte{0x21, 0xFE}, subBlocks(secret)...)), []byte(secret)},
		"gif application":   {gifWithExtension(gif, append(append([]byte{0x21, 0xFF}, subBlocks("XMP DataXMP")[:12]...), subBlocks(secret)...)), []byte(secret)},
	}
	variants := [][2]string{{"q:80", ""}, {"rs:fit:0:0", ""}, {"rs:fit:100:100", ""}, {"q:80", "png"}, {"q:80", "jpg"}, {"q:80", "webp"}, {"q:80", "gif"}}
	accepts := []string{"image/jpeg", "image/png,image/*", "image/webp,*/*", "*/*"}
	for name, f := range files {
		im := e.addBytes(name, f.b)
		for _, v := range variants {
			for _, accept := range accepts {
				r := e.get("GET", e.sign(im, v[0], v[1], 0), "Accept", accept)
				if r.status != 200 {
					t.Errorf("%s, %s.%s, Accept %s: status %d", name, v[0], v[1], accept, r.status)
				} else if bytes.Contains(r.body, f.needle) {
					t.Errorf("%s, %s.%s, Accept %s: the variant (%s, %d bytes) carries the secret", name, v[0], v[1], accept,
						r.header.Get("Content-Type"), len(r.body))
				}
			}
		}
	}
}

// lossyWebP re-encodes a JPEG as a small lossy WebP.
func lossyWebP(t *testing.T, jpeg []byte) []byte {
	t.Helper()
	src, err := vips.SourceReader(context.Background(), bytes.NewReader(jpeg), int64(len(jpeg)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	im, err := vips.Thumbnail(src, vips.ThumbnailOptions{Width: 64, Height: 48, Size: vips.SizeForce})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	out, err := im.Save(context.Background(), "webp", vips.SaveOptions{Quality: 10, Strip: true})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// addBytes stores b as a public original and records its row.
func (e *env) addBytes(name string, b []byte) *imgmgr.Image {
	e.t.Helper()
	hdr, err := vips.ProbeBuffer(b)
	if err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	if _, err := e.blobs.Put(context.Background(), blob.OriginalKey(sha), bytes.NewReader(b)); err != nil {
		e.t.Fatal(err)
	}
	im := &imgmgr.Image{OwnerID: e.owner.ID, SHA256: sha, Size: int64(len(b)), Header: hdr, Filename: "x", Visibility: imgmgr.Public}
	if err := e.meta.CreateImage(context.Background(), im); err != nil {
		e.t.Fatal(err)
	}
	return im
}
