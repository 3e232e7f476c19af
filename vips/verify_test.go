package vips

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// truncatedJPEGs are JPEGs whose scan data ends early but whose last two
// bytes are a well-formed EOI.
func truncatedJPEGs(t *testing.T) map[string][]byte {
	t.Helper()
	photo := testenv.ReadImage(t, "photo/2569067123_aca715a2ee_o.jpg")
	half := append(append([]byte{}, photo[:len(photo)/2]...), 0xFF, 0xD9)
	return map[string][]byte{
		"first half of a photo + EOI":              half,
		"7000×7000 header, 64 bytes of scan + EOI": bigHeaderShortScan(t, photo, 7000, 7000, 64),
		"corrupt/truncated.jpg (no EOI)":           testenv.ReadImage(t, "corrupt/truncated.jpg"),
	}
}

// bigHeaderShortScan rewrites the frame size of jpeg to w×h and keeps only
// n bytes of scan data after the SOS segment, then EOI.
func bigHeaderShortScan(t *testing.T, jpeg []byte, w, h uint16, n int) []byte {
	t.Helper()
	out := append([]byte{}, jpeg...)
	for i := 2; i+4 < len(out); {
		marker, size := out[i+1], int(binary.BigEndian.Uint16(out[i+2:]))
		switch {
		case marker >= 0xC0 && marker <= 0xC2: // SOF0..2: P, height, width
			binary.BigEndian.PutUint16(out[i+5:], h)
			binary.BigEndian.PutUint16(out[i+7:], w)
		case marker == 0xDA: // SOS
			end := i + 2 + size + n
			return append(out[:end:end], 0xFF, 0xD9)
		}
		i += 2 + size
	}
	t.Fatal("no SOS segment")
	return nil
}

// Regression (issue 10 item 10): libvips' fail_on=error only fails when
// the bytes run out, so a truncated JPEG that ends in EOI decoded with
// grey filling in and was stored (201). Both the file and the buffer
// check refuse it now, 422 undecodable.
func TestVerifyRefusesTruncatedJPEGEndingInEOI(t *testing.T) {
	for name, b := range truncatedJPEGs(t) {
		path := filepath.Join(t.TempDir(), "x.jpg")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ProbeFile(path); err != nil {
			t.Fatalf("%s: the header must pass the probe (the bug is past it): %v", name, err)
		}
		for how, err := range map[string]error{"file": VerifyFile(path), "buffer": VerifyBuffer(b)} {
			if imgmgr.CodeOf(err) != CodeUndecodable {
				t.Errorf("%s (%s): %v, want %s", name, how, err, CodeUndecodable)
			}
		}
	}
}

// The real-world JPEGs of the test corpus are accepted, and so is a JPEG
// with a benign libjpeg warning (extraneous bytes before a marker, which
// some cameras and editors write).
func TestVerifyAcceptsWholeJPEGs(t *testing.T) {
	root := testenv.Image(t, ".")
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jpg") {
			return err
		}
		if rel, _ := filepath.Rel(root, path); strings.HasPrefix(rel, "corrupt/") || strings.HasPrefix(rel, "bombs/") {
			return nil
		}
		if err := VerifyFile(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
		return nil
	})
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	eoi := bytes.LastIndex(photo, []byte{0xFF, 0xD9})
	junk := append(append(append([]byte{}, photo[:eoi]...), 0x00, 0x17, 0x2A), photo[eoi:]...)
	if err := VerifyBuffer(junk); err != nil {
		t.Errorf("JPEG with extraneous bytes before EOI: %v", err)
	}
}
