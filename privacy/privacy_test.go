package privacy

import (
	"bytes"
	"encoding/json"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// collector records every metadata block a walk finds (copies).
type collector struct{ exifs, xmps, irbs [][]byte }

func (c *collector) exif(b []byte) { c.exifs = append(c.exifs, bytes.Clone(b)) }
func (c *collector) xmp(b []byte)  { c.xmps = append(c.xmps, bytes.Clone(b)) }
func (c *collector) irb(b []byte)  { c.irbs = append(c.irbs, bytes.Clone(b)) }

func collect(t *testing.T, format string, b []byte) *collector {
	t.Helper()
	c := &collector{}
	var err error
	switch format {
	case "jpeg":
		err = walkJPEG(bytes.NewReader(b), discard{}, c)
	case "png":
		err = walkPNG(bytes.NewReader(b), discard{}, c)
	case "gif":
		err = walkGIF(bytes.NewReader(b), discard{}, c)
	case "webp":
		err = walkWebP(bytes.NewReader(b), discard{}, c)
	case "avif", "heif":
		err = walkISOBMFF(bytes.NewReader(b), discard{}, c)
	}
	if err != nil {
		t.Fatalf("walking %s output: %v", format, err)
	}
	return c
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func strip(t *testing.T, format string, in []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := StripLocation(format, bytes.NewReader(in), &out); err != nil {
		t.Fatalf("StripLocation(%s): %v", format, err)
	}
	return out.Bytes()
}

// locationWords must not appear anywhere in a stripped file: the values
// the fixtures carry (XMP GPS, cities, IPTC places).
var locationWords = []string{"GPSLatitude", "GPSLongitude", "52,31", "13,24", "Berlin", "Alexanderplatz", "Mitte", "United Kingdom", "Germany"}

// keptWords must survive: non-location metadata.
var keptWords = []string{"FUJIFILM", "FinePixS1Pro", "kept title", "Ian Britton"}

func TestStripLocation(t *testing.T) {
	cases := []struct {
		name, format, file string
		keep               []string
		sameLength         bool
	}{
		{"JPEG: EXIF GPS, XMP, IPTC", "jpeg", "gps-xmp-iptc.jpg", keptWords, true},
		{"JPEG: EXIF GPS + IPTC country", "jpeg", "../../testdata/images/metadata/GPS.jpg", []string{"FUJIFILM", "FinePixS1Pro", "Ian Britton", "FreeFoto.com"}, true},
		{"PNG: eXIf + iTXt XMP", "png", "gps.png", []string{"FUJIFILM", "kept title"}, false},
		{"WebP: EXIF + XMP chunks", "webp", "gps.webp", []string{"FUJIFILM", "kept title"}, true},
		{"HEIF: Exif + XMP items", "heif", "gps.heic", []string{"FUJIFILM", "kept title"}, true},
		{"AVIF: Exif + XMP items", "avif", "gps.avif", []string{"FUJIFILM", "kept title"}, true},
		{"GIF: XMP application extension", "gif", "gps-xmp.gif", []string{"kept title"}, true},
		{"AVIF from an iPhone", "avif", "../../testdata/images/exif-orientation/avif-orientation-6.avif", []string{"iPhone XS"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := readFixture(t, tc.file)
			hasEXIF := tc.format != "gif" // GIF carries XMP only
			if md, err := Read(tc.format, bytes.NewReader(in)); err != nil || (md.Location == nil) == hasEXIF {
				t.Fatalf("fixture has no location to strip: %+v, %v", md, err)
			}
			out := strip(t, tc.format, in)
			if tc.sameLength && len(out) != len(in) {
				t.Errorf("length %d -> %d; edits must keep lengths", len(in), len(out))
			}
			c := collect(t, tc.format, out)
			if len(c.exifs) == 0 && hasEXIF {
				t.Fatal("the EXIF block is gone; only its GPS IFD should be")
			}
			if len(c.xmps) == 0 && tc.format == "gif" {
				t.Fatal("the XMP extension is gone; only its location properties should be")
			}
			for i, e := range c.exifs {
				if hasGPS(e) {
					t.Errorf("EXIF block %d still points to a GPS IFD", i)
				}
			}
			if md, err := Read(tc.format, bytes.NewReader(out)); err != nil || md.Location != nil {
				t.Errorf("Read(stripped) = %+v, %v; want no location", md, err)
			}
			for _, w := range locationWords {
				if bytes.Contains(out, []byte(w)) {
					t.Errorf("stripped file still contains %q", w)
				}
			}
			for _, w := range tc.keep {
				if !bytes.Contains(out, []byte(w)) {
					t.Errorf("stripped file lost %q (non-location metadata must stay)", w)
				}
			}
			again := strip(t, tc.format, out)
			if !bytes.Equal(again, out) {
				t.Error("stripping twice changed the file again")
			}
			samePixels(t, tc.format, in, out)
			exiftoolCheck(t, in, out, tc.keep)
		})
	}
}

// samePixels decodes JPEG and PNG with the standard library and compares
// every pixel; for all formats the image data must be byte-identical.
func samePixels(t *testing.T, format string, in, out []byte) {
	t.Helper()
	var decode func([]byte) (image.Image, error)
	switch format {
	case "jpeg":
		decode = func(b []byte) (image.Image, error) { return jpeg.Decode(bytes.NewReader(b)) }
	case "png":
		decode = func(b []byte) (image.Image, error) { return png.Decode(bytes.NewReader(b)) }
	case "gif":
		sameGIFFrames(t, in, out)
		return
	}
	if decode != nil {
		a, err := decode(in)
		if err != nil {
			t.Fatalf("decoding the input: %v", err)
		}
		b, err := decode(out)
		if err != nil {
			t.Fatalf("the stripped file does not decode: %v", err)
		}
		if a.Bounds() != b.Bounds() {
			t.Fatalf("bounds %v -> %v", a.Bounds(), b.Bounds())
		}
		for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
			for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
				if a.At(x, y) != b.At(x, y) {
					t.Fatalf("pixel (%d,%d) differs: %v -> %v", x, y, a.At(x, y), b.At(x, y))
				}
			}
		}
	}
	if ia, ib := imageData(t, format, in), imageData(t, format, out); !bytes.Equal(ia, ib) {
		t.Errorf("image data changed (%d -> %d bytes)", len(ia), len(ib))
	}
	vipsCheck(t, format, in, out)
}

// sameGIFFrames decodes every frame of both GIFs and compares them.
func sameGIFFrames(t *testing.T, in, out []byte) {
	t.Helper()
	a, err := gif.DecodeAll(bytes.NewReader(in))
	if err != nil {
		t.Fatalf("decoding the input: %v", err)
	}
	b, err := gif.DecodeAll(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("the stripped GIF does not decode: %v", err)
	}
	if len(a.Image) != len(b.Image) {
		t.Fatalf("frames %d -> %d", len(a.Image), len(b.Image))
	}
	for i := range a.Image {
		if !bytes.Equal(a.Image[i].Pix, b.Image[i].Pix) || a.Image[i].Rect != b.Image[i].Rect || a.Delay[i] != b.Delay[i] {
			t.Fatalf("frame %d differs", i)
		}
	}
}

// exiftoolCheck runs exiftool, when installed, as an independent reader:
// no location tag, no warning, the kept words present.
func exiftoolCheck(t *testing.T, in, b []byte, keep []string) {
	t.Helper()
	if _, err := exec.LookPath("exiftool"); err != nil {
		t.Log("exiftool not installed: independent check not run")
		return
	}
	before, _ := exiftool(t, in)
	tags, all := exiftool(t, b)
	for k, v := range tags {
		if (strings.HasSuffix(k, "Warning") || strings.HasSuffix(k, "Error")) && before[k] != v {
			t.Errorf("exiftool: %s: %v", k, v)
		}
		kl := strings.ToLower(k)
		for _, bad := range []string{"gps", "city", "country", "location", "sub-location", "province"} {
			if strings.Contains(kl, bad) {
				t.Errorf("exiftool still finds %s = %v", k, v)
			}
		}
	}
	for _, w := range keep {
		if !strings.Contains(all, w) {
			t.Errorf("exiftool no longer finds %q", w)
		}
	}
}

// exiftool returns exiftool's tags for b and its raw JSON.
func exiftool(t *testing.T, b []byte) (map[string]any, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "x")
	os.WriteFile(f, b, 0o600)
	raw, err := exec.Command("exiftool", "-j", "-a", "-G1", "-s", f).Output()
	if err != nil {
		t.Fatalf("exiftool: %v", err)
	}
	var tags []map[string]any
	if err := json.Unmarshal(raw, &tags); err != nil || len(tags) != 1 {
		t.Fatalf("exiftool output: %v", err)
	}
	return tags[0], string(raw)
}

// vipsCheck decodes both files with the vips command, when installed, and
// compares the pixels (AVIF and HEIF have no decoder in Go).
func vipsCheck(t *testing.T, format string, in, out []byte) {
	t.Helper()
	path, err := exec.LookPath("vips")
	if err != nil {
		t.Log("vips not installed: decode check not run")
		return
	}
	dir := t.TempDir()
	var raw [2][]byte
	for i, b := range [][]byte{in, out} {
		src := filepath.Join(dir, "in"+string(rune('a'+i))+"."+format)
		dst := filepath.Join(dir, "out"+string(rune('a'+i))+".raw")
		os.WriteFile(src, b, 0o600)
		if msg, err := exec.Command(path, "rawsave", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("vips could not decode the %s file: %v: %s", []string{"input", "stripped"}[i], err, msg)
		}
		raw[i], _ = os.ReadFile(dst)
	}
	if len(raw[0]) == 0 || !bytes.Equal(raw[0], raw[1]) {
		t.Error("vips decodes different pixels from the stripped file")
	}
}

func TestStripUnsupported(t *testing.T) {
	for _, f := range []string{"tiff", "jxl", "svg", ""} {
		err := StripLocation(f, strings.NewReader("x"), discard{})
		if imgmgr.KindOf(err) != imgmgr.KindUnsupportedMedia || Supported(f) {
			t.Errorf("StripLocation(%q) = %v; want ErrUnsupported", f, err)
		}
	}
}

func TestStripMalformed(t *testing.T) {
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	cases := []struct {
		format, name string
		data         []byte
	}{
		{"jpeg", "not a JPEG", []byte("hello")},
		{"jpeg", "truncated JPEG", photo[:len(photo)/2]},
		{"png", "not a PNG", []byte("\x89PNX")},
		{"png", "truncated PNG", testenv.ReadImage(t, "corrupt/truncated.png")},
		{"webp", "not a WebP", []byte("RIFF\x00\x00\x00\x00WEBX")},
		{"avif", "truncated box", []byte("\x00\x00\x00\x20ftypavif")},
	}
	for _, tc := range cases {
		err := StripLocation(tc.format, bytes.NewReader(tc.data), discard{})
		if imgmgr.KindOf(err) != imgmgr.KindUnprocessable || imgmgr.CodeOf(err) != "strip_failed" {
			t.Errorf("%s: err = %v; want 422 strip_failed", tc.name, err)
		}
	}
}
