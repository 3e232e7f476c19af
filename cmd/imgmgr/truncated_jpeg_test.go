package main

import (
	"encoding/binary"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// jpegWithShortScan rewrites the frame size of jpeg to w×h and keeps n
// bytes of scan data after its SOS segment, then a well-formed EOI.
func jpegWithShortScan(t *testing.T, jpeg []byte, w, h uint16, n int) []byte {
	t.Helper()
	out := append([]byte{}, jpeg...)
	for i := 2; i+4 < len(out); {
		marker, size := out[i+1], int(binary.BigEndian.Uint16(out[i+2:]))
		if marker >= 0xC0 && marker <= 0xC2 { // SOF0..2: precision, height, width
			binary.BigEndian.PutUint16(out[i+5:], h)
			binary.BigEndian.PutUint16(out[i+7:], w)
		}
		if marker == 0xDA {
			end := i + 2 + size + n
			return append(out[:end:end], 0xFF, 0xD9)
		}
		i += 2 + size
	}
	t.Fatal("no SOS segment")
	return nil
}

// Regression (issue 10 item 10): the first half of a JPEG plus FFD9, or a
// 7000×7000 header with 64 bytes of scan data, passed the decode check
// and was stored (201). Through the real server they are 422 undecodable
// and leave nothing behind, while every real-world JPEG of the test
// corpus (some with benign libjpeg warnings elsewhere) is still stored.
func TestUploadRefusesTruncatedJPEGEndingInEOI(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Upload.MaxFileBytes = 8 << 20 })
	photo := testenv.ReadImage(t, "photo/2569067123_aca715a2ee_o.jpg")
	for name, b := range map[string][]byte{
		"half.jpg": append(append([]byte{}, photo[:len(photo)/2]...), 0xFF, 0xD9),
		"7000.jpg": jpegWithShortScan(t, photo, 7000, 7000, 64),
	} {
		body, ct := multipartBody(t, nil, filePart{name, b})
		resp := ts.do("POST", "/api/v1/images", ts.token, body, map[string]string{"Content-Type": ct})
		if code := errorCode(t, resp); resp.StatusCode != 422 || code != "undecodable" {
			t.Errorf("%s: %d %q, want 422 undecodable", name, resp.StatusCode, code)
		}
		if st := ts.state(); st != (state{}) {
			t.Errorf("%s left behind: %+v", name, st)
		}
	}
	root := testenv.Image(t, ".")
	_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, path)
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".jpg") || strings.HasPrefix(rel, "corrupt/") || strings.HasPrefix(rel, "bombs/") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if status, out := ts.upload(ts.token, nil, filePart{filepath.Base(path), b}); status != http.StatusCreated || out.Results[0].Image == nil {
			t.Errorf("%s: %d %+v, want it stored", rel, status, out.Results)
		}
		return nil
	})
}
