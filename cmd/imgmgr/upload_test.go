package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

func TestUploadAndOriginal(t *testing.T) {
	ts := startServer(t)
	photo := testenv.ReadImage(t, "photo/2569067123_aca715a2ee_o.jpg")
	status, out := ts.upload(ts.token, map[string]string{"title": "Grizzly", "tags": "Bear, nature,bear"}, filePart{"photo.jpg", photo})
	if status != 201 || len(out.Results) != 1 || out.Results[0].Image == nil {
		t.Fatalf("upload: %d %+v", status, out)
	}
	im := out.Results[0].Image
	if im.Width != 2725 || im.Height != 2225 || im.Format != "jpeg" || im.SHA256 != sha(photo) || im.Size != int64(len(photo)) {
		t.Fatalf("image = %+v", im)
	}
	var got struct {
		Title string   `json:"title"`
		Tags  []string `json:"tags"`
	}
	ts.doJSON("GET", "/api/v1/images/"+im.ID, ts.token, nil, 200, &got)
	if got.Title != "Grizzly" || strings.Join(got.Tags, ",") != "bear,nature" {
		t.Fatalf("metadata = %+v", got)
	}

	resp := ts.do("GET", "/api/v1/images/"+im.ID+"/original", ts.token, nil, nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, photo) || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("original: %d, %d bytes, %s", resp.StatusCode, len(body), resp.Header.Get("Content-Type"))
	}
	etag := resp.Header.Get("ETag")
	if etag != `"`+sha(photo)+`"` || resp.Header.Get("Last-Modified") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("original headers: %v", resp.Header)
	}
	resp = ts.do("GET", "/api/v1/images/"+im.ID+"/original", ts.token, nil, map[string]string{"Range": "bytes=100-199"})
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || !bytes.Equal(body, photo[100:200]) {
		t.Fatalf("range: %d, %d bytes", resp.StatusCode, len(body))
	}
	resp = ts.do("GET", "/api/v1/images/"+im.ID+"/original", ts.token, nil, map[string]string{"If-None-Match": etag})
	resp.Body.Close()
	if resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d, want 304", resp.StatusCode)
	}
}

func TestDedupAndDelete(t *testing.T) {
	ts := startServer(t)
	data := testenv.ReadImage(t, "photo/concert.jpg")
	_, a := ts.upload(ts.token, nil, filePart{"a.jpg", data})
	_, b := ts.upload(ts.token, nil, filePart{"b.jpg", data})
	idA, idB := a.Results[0].Image.ID, b.Results[0].Image.ID
	if idA == idB {
		t.Fatal("two uploads share one row")
	}
	if st := ts.state(); st.rows != 2 || st.blobs != 1 {
		t.Fatalf("after two identical uploads: %+v, want 2 rows and 1 blob", st)
	}
	ts.doJSON("DELETE", "/api/v1/images/"+idA, ts.token, nil, 204, nil)
	if st := ts.state(); st.rows != 1 || st.blobs != 1 {
		t.Fatalf("after deleting one: %+v", st)
	}
	ts.doJSON("DELETE", "/api/v1/images/"+idB, ts.token, nil, 204, nil)
	if st := ts.state(); st.rows != 0 || st.blobs != 0 {
		t.Fatalf("after deleting both: %+v, want nothing", st)
	}
	ts.doJSON("GET", "/api/v1/images/"+idB, ts.token, nil, 404, nil)
}

// pngHeader makes a PNG whose IHDR claims w×h with a few bytes of data.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

func TestHostileUploads(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Upload.MaxFileBytes = 2 << 20 })
	good := testenv.ReadImage(t, "photo/concert.jpg")
	truncated := testenv.ReadImage(t, "corrupt/truncated.jpg")
	big := bytes.Repeat([]byte{0xFF, 0xD8, 0xFF}, 1<<20) // 3 MiB > 2 MiB limit
	cases := []struct {
		name   string
		body   func() (io.Reader, string)
		status int
		code   string
	}{
		{"empty body", func() (io.Reader, string) { return strings.NewReader(""), "multipart/form-data; boundary=x" }, 400, "no_file"},
		{"not multipart", func() (io.Reader, string) { return strings.NewReader("{}"), "application/json" }, 415, "unsupported_media_type"},
		{"no file part", func() (io.Reader, string) {
			b, ct := multipartBody(t, map[string]string{"title": "x"})
			return b, ct
		}, 400, "no_file"},
		{"truncated multipart", func() (io.Reader, string) {
			b, ct := multipartBody(t, nil, filePart{"a.jpg", good})
			return bytes.NewReader(b.Bytes()[:b.Len()/2]), ct
		}, 400, "invalid_multipart"},
		{"text named .jpg", func() (io.Reader, string) {
			return multipartBody(t, nil, filePart{"evil.jpg", []byte("hello, I am text\n")})
		}, 415, "unsupported_media_type"},
		{"png claiming 100000x100000", func() (io.Reader, string) {
			return multipartBody(t, nil, filePart{"bomb.png", pngHeader(100000, 100000)})
		}, 422, "too_many_pixels"},
		{"truncated jpeg", func() (io.Reader, string) {
			return multipartBody(t, nil, filePart{"cut.jpg", truncated})
		}, 422, "undecodable"},
		{"oversized", func() (io.Reader, string) {
			return multipartBody(t, nil, filePart{"big.jpg", big})
		}, 413, "file_too_large"},
		{"empty file", func() (io.Reader, string) {
			return multipartBody(t, nil, filePart{"empty.jpg", nil})
		}, 400, "empty_file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body, ct := c.body()
			resp := ts.do("POST", "/api/v1/images", ts.token, body, map[string]string{"Content-Type": ct})
			if resp.StatusCode != c.status {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, b)
			}
			if code := errorCode(t, resp); code != c.code {
				t.Fatalf("code %q, want %q", code, c.code)
			}
			if st := ts.state(); st != (state{}) {
				t.Fatalf("left behind: %+v", st)
			}
		})
	}
}

func TestTenFilesOneBad(t *testing.T) {
	ts := startServer(t)
	var files []filePart
	for i := range 10 {
		img := testenv.ReadImage(t, []string{"photo/concert.jpg", "alpha/blackbug.png", "animated/rotating-squares.gif",
			"animated/rotating-squares.webp", "exif-orientation/Landscape_6.jpg"}[i%5])
		if i == 6 {
			img = []byte("<?php system($_GET['c']); ?>")
		}
		files = append(files, filePart{name: "f" + string(rune('0'+i)) + ".jpg", data: img})
	}
	status, out := ts.upload(ts.token, nil, files...)
	if status != http.StatusCreated || len(out.Results) != 10 {
		t.Fatalf("status %d, %d results", status, len(out.Results))
	}
	for i, r := range out.Results {
		bad := i == 6
		if (r.Status == "error") != bad || (bad && r.Error.Code != "unsupported_media_type") || (!bad && r.Image == nil) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if st := ts.state(); st.rows != 9 || st.blobs != 5 || st.temps != 0 {
		t.Fatalf("state %+v, want 9 rows, 5 blobs, no temp files", st)
	}
}

// TestPostgresBackend runs the upload → list → original → delete path with
// PostgreSQL as the metadata store.
func TestPostgresBackend(t *testing.T) {
	pg := testenv.PostgresSchemaURL(t)
	ts := startServer(t, func(c *config.Config) { c.Database.URL = pg })
	data := testenv.ReadImage(t, "alpha/blackbug.png")
	status, out := ts.upload(ts.token, map[string]string{"tags": "bug"}, filePart{"bug.png", data})
	if status != 201 || out.Results[0].Image.Width != 2048 {
		t.Fatalf("upload: %d %+v", status, out)
	}
	id := out.Results[0].Image.ID
	var l listResp
	ts.doJSON("GET", "/api/v1/images?tag=bug", ts.token, nil, 200, &l)
	if len(l.Images) != 1 || l.Images[0].ID != id {
		t.Fatalf("list: %+v", l)
	}
	resp := ts.do("GET", "/api/v1/images/"+id+"/original", ts.token, nil, nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, data) {
		t.Fatal("original differs")
	}
	ts.doJSON("DELETE", "/api/v1/images/"+id, ts.token, nil, 204, nil)
	if st := ts.state(); st != (state{}) {
		t.Fatalf("after delete: %+v", st)
	}
}
