package vips

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

func TestProbe(t *testing.T) {
	tests := []struct {
		file string
		want imgmgr.Header
	}{
		{"photo/2569067123_aca715a2ee_o.jpg", imgmgr.Header{Format: "jpeg", Width: 2725, Height: 2225, Frames: 1, Orientation: 1}},
		{"photo/concert.jpg", imgmgr.Header{Format: "jpeg", Width: 400, Height: 267, Frames: 1, Orientation: 1}},
		{"exif-orientation/Landscape_6.jpg", imgmgr.Header{Format: "jpeg", Width: 450, Height: 600, Frames: 1, Orientation: 6}},
		{"exif-orientation/Landscape_8.jpg", imgmgr.Header{Format: "jpeg", Width: 450, Height: 600, Frames: 1, Orientation: 8}},
		{"exif-orientation/Portrait_6.jpg", imgmgr.Header{Format: "jpeg", Width: 600, Height: 450, Frames: 1, Orientation: 6}},
		// libheif applies the HEIF rotation itself: libvips reports it upright.
		{"exif-orientation/avif-orientation-6.avif", imgmgr.Header{Format: "avif", Width: 3024, Height: 4032, Frames: 1, Orientation: 1}},
		{"cmyk/Channel_digital_image_CMYK_color.jpg", imgmgr.Header{Format: "jpeg", Width: 500, Height: 333, Frames: 1, Orientation: 1}},
		{"alpha/blackbug.png", imgmgr.Header{Format: "png", Width: 2048, Height: 1536, Frames: 1, HasAlpha: true, Orientation: 1}},
		{"png16/sample.png", imgmgr.Header{Format: "png", Width: 290, Height: 442, Frames: 1, Orientation: 1}},
		{"icc/tifftag-photoshop.tiff", imgmgr.Header{Format: "tiff", Width: 317, Height: 211, Frames: 1, Orientation: 1}},
		{"animated/rotating-squares.gif", imgmgr.Header{Format: "gif", Width: 80, Height: 80, Frames: 30, HasAlpha: true, Orientation: 1}},
		{"animated/rotating-squares.webp", imgmgr.Header{Format: "webp", Width: 80, Height: 80, Frames: 9, HasAlpha: true, Orientation: 1}},
		{"animated/big-height.webp", imgmgr.Header{Format: "webp", Width: 13, Height: 169, Frames: 97, Orientation: 1}},
		// Bombs: the header alone tells their size, no pixel is decoded.
		{"bombs/65536-uint32-limit.png", imgmgr.Header{Format: "png", Width: 65536, Height: 65536, Frames: 1, Orientation: 1}},
		{"bombs/giant-image.jpg", imgmgr.Header{Format: "jpeg", Width: 20000, Height: 14000, Frames: 1, Orientation: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			path := testenv.Image(t, tt.file)
			got, err := ProbeFile(path)
			if err != nil {
				t.Fatalf("ProbeFile: %v", err)
			}
			if got != tt.want {
				t.Errorf("ProbeFile = %+v, want %+v", got, tt.want)
			}
			got, err = ProbeBuffer(testenv.ReadImage(t, tt.file))
			if err != nil {
				t.Fatalf("ProbeBuffer: %v", err)
			}
			if got != tt.want {
				t.Errorf("ProbeBuffer = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestProbeRefuses(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		kind imgmgr.Kind
		code string
	}{
		{"corrupt header", testenv.Image(t, "corrupt/corrupt-header.jpg"), imgmgr.KindUnprocessable, CodeUndecodable},
		{"libheif size guard", testenv.Image(t, "bombs/17000x17000.avif"), imgmgr.KindUnprocessable, CodeTooManyPixels},
		{"svg", write("a.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>`)), imgmgr.KindUnsupportedMedia, CodeUnsupported},
		{"pdf", write("a.pdf", []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")), imgmgr.KindUnsupportedMedia, CodeUnsupported},
		{"empty", write("empty", nil), imgmgr.KindUnsupportedMedia, CodeUnsupported},
		{"png signature only", write("sig.png", []byte("\x89PNG\r\n\x1a\n")), imgmgr.KindUnprocessable, CodeUndecodable},
		{"missing file", filepath.Join(dir, "nope.jpg"), imgmgr.KindInternal, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ProbeFile(tt.path)
			checkErr(t, "ProbeFile", err, tt.kind, tt.code)
			if tt.kind == imgmgr.KindInternal {
				return
			}
			b, rerr := os.ReadFile(tt.path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			_, err = ProbeBuffer(b)
			checkErr(t, "ProbeBuffer", err, tt.kind, tt.code)
		})
	}
}

func checkErr(t *testing.T, what string, err error, kind imgmgr.Kind, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want %s/%s", what, kind, code)
	}
	if imgmgr.KindOf(err) != kind || imgmgr.CodeOf(err) != code {
		t.Errorf("%s: %v (kind %s, code %s), want %s/%s", what, err, imgmgr.KindOf(err), imgmgr.CodeOf(err), kind, code)
	}
}

// BMP goes through ImageMagick, libvips' only BMP loader; none of the test
// images is a BMP, so one is written here.
func TestProbeBMP(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.bmp")
	if err := os.WriteFile(p, bmp(7, 5), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ProbeFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want := imgmgr.Header{Format: "bmp", Width: 7, Height: 5, Frames: 1, Orientation: 1}
	if got != want {
		t.Errorf("ProbeFile = %+v, want %+v", got, want)
	}
	if err := VerifyFile(p); err != nil {
		t.Errorf("VerifyFile: %v", err)
	}
}

// bmp encodes a w×h 24-bit BMP with a colour gradient.
func bmp(w, h int) []byte {
	stride := (w*3 + 3) &^ 3
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("BM")
	le(uint32(54 + stride*h))
	le(uint32(0))
	le(uint32(54))
	le(uint32(40))
	le(int32(w))
	le(int32(h))
	le(uint16(1))
	le(uint16(24))
	le(uint32(0))
	le(uint32(stride * h))
	le(int32(2835))
	le(int32(2835))
	le(uint32(0))
	le(uint32(0))
	for y := 0; y < h; y++ {
		row := make([]byte, stride)
		for x := 0; x < w; x++ {
			row[3*x], row[3*x+1], row[3*x+2] = byte(x*30), byte(y*40), 200
		}
		b.Write(row)
	}
	return b.Bytes()
}

func TestVerify(t *testing.T) {
	tests := []struct {
		file string
		ok   bool
	}{
		{"photo/2569067123_aca715a2ee_o.jpg", true},
		{"alpha/blackbug.png", true},
		{"png16/sample.png", true},
		{"cmyk/Channel_digital_image_CMYK_color_no_profile.jpg", true},
		{"icc/tifftag-photoshop.tiff", true},
		{"animated/rotating-squares.gif", true},
		{"animated/rotating-squares.webp", true},
		{"exif-orientation/avif-orientation-6.avif", true},
		// A fine header over broken pixels: only decoding finds these.
		{"corrupt/truncated.jpg", false},
		{"corrupt/truncated.png", false},
		{"corrupt/truncated.gif", false},
		{"corrupt/corrupt-header.jpg", false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			errs := map[string]error{
				"VerifyFile":   VerifyFile(testenv.Image(t, tt.file)),
				"VerifyBuffer": VerifyBuffer(testenv.ReadImage(t, tt.file)),
			}
			for what, err := range errs {
				if tt.ok {
					if err != nil {
						t.Errorf("%s: %v", what, err)
					}
					continue
				}
				checkErr(t, what, err, imgmgr.KindUnprocessable, CodeUndecodable)
			}
		})
	}
}

// Probes and checks run concurrently from many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	files := []string{"photo/concert.jpg", "corrupt/truncated.png", "animated/rotating-squares.gif", "bombs/17000x17000.avif"}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := files[i%len(files)]
			p := testenv.Image(t, f)
			_, perr := ProbeFile(p)
			verr := VerifyFile(p)
			bad := f == "corrupt/truncated.png" || f == "bombs/17000x17000.avif"
			if (perr == nil && verr == nil) == bad {
				t.Errorf("%s: probe %v, verify %v", f, perr, verr)
			}
		}()
	}
	wg.Wait()
}

func TestStartupIdempotent(t *testing.T) {
	if err := Startup(Config{Concurrency: 3}); err != nil {
		t.Fatal(err)
	}
	if v := Version(); v[:2] != "8." {
		t.Errorf("Version() = %q", v)
	}
	if err := (Config{Concurrency: -1}).Validate(); err == nil {
		t.Error("negative concurrency accepted")
	}
}

func BenchmarkProbeBomb(b *testing.B) {
	p := testenv.Image(b, "bombs/65536-uint32-limit.png")
	for b.Loop() {
		if _, err := ProbeFile(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyPhoto(b *testing.B) {
	p := testenv.Image(b, "photo/2569067123_aca715a2ee_o.jpg")
	for b.Loop() {
		if err := VerifyFile(p); err != nil {
			b.Fatal(err)
		}
	}
}

// No test image is a JPEG XL, AVIF-with-alpha or a fresh WebP: encode the
// photo in every output format and probe the result.
func TestProbeEncoded(t *testing.T) {
	for _, f := range []string{"jpeg", "png", "webp", "avif", "jxl", "gif"} {
		t.Run(f, func(t *testing.T) {
			src, err := SourceFile(testenv.Image(t, "alpha/blackbug.png"))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			im, err := Thumbnail(src, ThumbnailOptions{Width: 120, Height: 120, Size: SizeDown})
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			b, err := im.Save(context.Background(), f, SaveOptions{Quality: 70, Strip: true, Effort: 1})
			if err != nil {
				t.Fatal(err)
			}
			h, err := ProbeBuffer(b)
			if err != nil {
				t.Fatal(err)
			}
			want := imgmgr.Header{Format: f, Width: 120, Height: 90, Frames: 1, HasAlpha: f != "jpeg", Orientation: 1}
			if h != want {
				t.Errorf("ProbeBuffer = %+v, want %+v", h, want)
			}
			if err := VerifyBuffer(b); err != nil {
				t.Errorf("VerifyBuffer: %v", err)
			}
		})
	}
}
