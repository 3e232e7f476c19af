package ingest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

func TestSniffRealImages(t *testing.T) {
	for _, c := range []struct{ file, want string }{
		{"photo/concert.jpg", "jpeg"},
		{"alpha/blackbug.png", "png"},
		{"animated/rotating-squares.gif", "gif"},
		{"animated/rotating-squares.webp", "webp"},
		{"exif-orientation/avif-orientation-6.avif", "avif"},
		{"icc/tifftag-photoshop.tiff", "tiff"},
		{"bombs/17000x17000.avif", "avif"},
	} {
		b := testenv.ReadImage(t, c.file)
		if got := Sniff(b[:min(len(b), SniffLen)]); got != c.want {
			t.Errorf("Sniff(%s) = %q, want %q", c.file, got, c.want)
		}
	}
}

func TestSniffTable(t *testing.T) {
	for _, c := range []struct {
		name, head, want string
	}{
		{"empty", "", ""},
		{"text", "hello, this is not an image", ""},
		{"html", "<!DOCTYPE html><html><script>alert(1)</script>", ""},
		{"php", "<?php echo 1; ?>", ""},
		{"zip", "PK\x03\x04rest", ""},
		{"jpeg short", "\xFF\xD8", ""},
		{"svg", "<?xml version=\"1.0\"?>\n<!-- c -->\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>", "svg"},
		{"svg bare", "<svg>", "svg"},
		{"svgz lookalike", "<svgfoo>", ""},
		{"jxl codestream", "\xFF\x0A\x00", "jxl"},
		{"jxl container", "\x00\x00\x00\x0cJXL \r\n\x87\nxx", "jxl"},
		{"heic", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "heif"},
		{"avif via compat", "\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf", "avif"},
		{"mp4", "\x00\x00\x00\x18ftypisom\x00\x00\x00\x00isomiso2", ""},
		{"bm text", "BMW is a car brand, not a bitmap", ""},
		{"bmp", "BM\x36\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00", "bmp"},
		{"tiff be", "MM\x00*\x00\x00\x00\x08", "tiff"},
	} {
		if got := Sniff([]byte(c.head)); got != c.want {
			t.Errorf("%s: Sniff = %q, want %q", c.name, got, c.want)
		}
	}
}

func FuzzSniff(f *testing.F) {
	matches, _ := filepath.Glob(filepath.Join(testenv.RepoRoot(), "testdata", "images", "*", "*"))
	for _, m := range matches {
		if b, err := os.ReadFile(m); err == nil {
			f.Add(b[:min(len(b), 64)])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		switch Sniff(b) {
		case "", "jpeg", "png", "gif", "webp", "avif", "heif", "jxl", "tiff", "bmp", "svg":
		default:
			t.Fatal("unknown format name")
		}
	})
}
