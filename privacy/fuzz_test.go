package privacy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// seedFiles adds the fixtures with the given extensions to a fuzz corpus.
func seedFiles(f *testing.F, exts ...string) {
	f.Helper()
	for _, ext := range exts {
		paths, _ := filepath.Glob(filepath.Join("testdata", "*."+ext))
		for _, p := range paths {
			if b, err := os.ReadFile(p); err == nil && len(b) < 64<<10 {
				f.Add(b)
			}
		}
	}
}

// fuzzStrip checks the properties every successful strip has: the output
// walks cleanly, keeps no GPS IFD, keeps the input's length where the
// format's edits are in place, and is a fixed point.
func fuzzStrip(t *testing.T, format string, in []byte, sameLength bool) {
	var out bytes.Buffer
	if err := StripLocation(format, bytes.NewReader(in), &out); err != nil {
		return
	}
	if sameLength && out.Len() != len(in) {
		t.Fatalf("length %d -> %d", len(in), out.Len())
	}
	c := collect(t, format, out.Bytes())
	for _, e := range c.exifs {
		if hasGPS(e) {
			t.Fatal("GPS IFD left")
		}
	}
	for _, x := range c.xmps {
		if r, err := xmpLocationRanges(x); err == nil && len(r) > 0 {
			t.Fatalf("XMP location left: %q", x)
		}
	}
	var again bytes.Buffer
	if err := StripLocation(format, bytes.NewReader(out.Bytes()), &again); err != nil {
		t.Fatalf("stripping the output failed: %v", err)
	}
	if !bytes.Equal(again.Bytes(), out.Bytes()) {
		t.Fatal("not a fixed point")
	}
}

func FuzzStripJPEG(f *testing.F) {
	seedFiles(f, "jpg")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrip(t, "jpeg", b, true) })
}

func FuzzStripPNG(f *testing.F) {
	seedFiles(f, "png")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrip(t, "png", b, false) })
}

func FuzzStripGIF(f *testing.F) {
	seedFiles(f, "gif")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrip(t, "gif", b, true) })
}

func FuzzStripWebP(f *testing.F) {
	seedFiles(f, "webp")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrip(t, "webp", b, true) })
}

func FuzzStripHEIF(f *testing.F) {
	seedFiles(f, "heic", "avif")
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStrip(t, "heif", b, true) })
}

func FuzzStripTIFF(f *testing.F) {
	f.Add(gpsTIFF(nativeLE, false))
	f.Add(gpsTIFF(nativeBE, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := len(b)
		rdr := &reader{}
		rdr.exif(bytes.Clone(b)) // reading never panics
		s := &stripper{}
		s.exif(b)
		if len(b) != n || hasGPS(b) {
			t.Fatalf("len %d -> %d, GPS left: %v", n, len(b), hasGPS(b))
		}
	})
}

func FuzzBlankXMP(f *testing.F) {
	f.Add([]byte(`<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="1,2N"><exif:GPSLongitude>3</exif:GPSLongitude></rdf:Description></rdf:RDF></x:xmpmeta>`))
	f.Add([]byte("\x00<\x00a\x00>\x00<\x00/\x00a\x00>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		wellFormed := func(b []byte) bool {
			if _, ok := utf16Order(b); ok {
				return true // checked through the UTF-8 view only
			}
			_, err := xmpLocationRanges(b)
			return err == nil
		}
		was := wellFormed(b)
		n := len(b)
		blankXMPLocation(b)
		if len(b) != n {
			t.Fatalf("length %d -> %d", n, len(b))
		}
		if _, ok := utf16Order(b); ok {
			return
		}
		if was && !wellFormed(b) {
			t.Fatalf("blanking broke well-formed XML: %q", b)
		}
		if r, err := xmpLocationRanges(b); err == nil && len(r) > 0 {
			t.Fatalf("location left: %q", b)
		}
	})
}

func FuzzStripIRB(f *testing.F) {
	f.Add(irbBlock(irbIPTC, iim(2, 90, "Berlin", 2, 80, "me")))
	f.Fuzz(func(t *testing.T, b []byte) {
		n := len(b)
		s := &stripper{}
		s.irb(b)
		if len(b) != n {
			t.Fatalf("length %d -> %d", n, len(b))
		}
		if changed, err := stripIRBLocation(b); err == nil && changed {
			t.Fatal("location datasets left after stripping")
		}
	})
}
