package upload_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob/localfs"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/meta/sqlite"
	"github.com/imgmgr/imgmgr/upload"
	"github.com/imgmgr/imgmgr/vips"
)

func TestMain(m *testing.M) {
	if err := vips.Startup(vips.Config{}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

// fuzzBoundary is the boundary of every fuzzed body.
const fuzzBoundary = "fuzzbound"

// realMultipart is the multipart receiver over a real ingest: SQLite in a
// temp dir, a local blob directory and libvips, with small limits so that
// short inputs reach every refusal (too many files, a field too large, a
// file too large, spooling to disk).
func realMultipart(tb testing.TB) (*upload.Multipart, imgmgr.Principal) {
	tb.Helper()
	dir := tb.TempDir()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "meta.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	bs, err := localfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		tb.Fatal(err)
	}
	u := &imgmgr.User{Username: "fuzz", PasswordHash: "x", Role: imgmgr.RoleUser}
	if err := st.CreateUser(ctx, u); err != nil {
		tb.Fatal(err)
	}
	ing, err := ingest.New(ingest.Config{MaxFileBytes: 64 << 10, MemoryThreshold: 4 << 10, TempDir: filepath.Join(dir, "tmp")},
		ingest.Deps{Meta: st, Blobs: bs, Decoder: vips.Decoder{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		tb.Fatal(err)
	}
	m := upload.NewMultipart(upload.MultipartConfig{MaxFiles: 3, MaxFieldBytes: 64}, ing, nil)
	return m, imgmgr.Principal{UserID: u.ID, Username: u.Username, Role: imgmgr.RoleUser}
}

func part(headers, body string) string {
	return "--" + fuzzBoundary + "\r\n" + headers + "\r\n\r\n" + body + "\r\n"
}

func fileHeaders(name string) string {
	return `Content-Disposition: form-data; name="file"; filename="` + name + `"` + "\r\nContent-Type: image/jpeg"
}

// FuzzMultipart feeds arbitrary bodies with a fixed boundary through
// Multipart.Receive and a real ingest. Whatever the body, Receive must not
// panic, must not report an internal error (a 500 for a client's bytes),
// and must answer consistently: an error exactly when no file was stored,
// every stored file with an id, a SHA-256 and a sniffed format.
func FuzzMultipart(f *testing.F) {
	gps := string(testenv.ReadImage(f, "metadata/GPS.jpg"))
	png := string(testenv.ReadImage(f, "png16/bggn4a16.png"))
	gif := string(testenv.ReadImage(f, "animated/dispose-previous.gif"))
	end := "--" + fuzzBoundary + "--\r\n"
	for _, seed := range []string{
		part(fileHeaders("a.jpg"), gps) + end,
		part(`Content-Disposition: form-data; name="title"`, "hello") + part(`Content-Disposition: form-data; name="tags"`, "a, b") +
			part(`Content-Disposition: form-data; name="visibility"`, "public") + part(fileHeaders("b.png"), png) + end,
		part(`Content-Disposition: form-data; name="album"`, "holiday") + part(`Content-Disposition: form-data; name="size"`, "1092") +
			part(`Content-Disposition: form-data; name="upload_id"`, "u1") + part(fileHeaders("c.gif"), gif) + end,
		part(fileHeaders("a.jpg"), gps) + part(fileHeaders("b.png"), png) + part(fileHeaders("c.gif"), gif) + part(fileHeaders("d.jpg"), gps) + end,
		part(fileHeaders("a.jpg"), gps[:len(gps)/2]),
		part(`Content-Disposition: form-data; name="title"`, strings.Repeat("t", 100)) + part(fileHeaders("a.jpg"), gps) + end,
		part(fileHeaders("evil.jpg"), "<?php echo 1; ?>") + end,
		part(`Content-Disposition: form-data; name="other"; filename="x.jpg"`, gps) + end,
		end,
		"",
	} {
		f.Add([]byte(seed))
	}
	m, owner := realMultipart(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/api/v1/images", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		resp, err := m.Receive(r, owner)
		if resp == nil {
			t.Fatalf("no response; err %v", err)
		}
		checkResponse(t, resp, err)
	})
}

func checkResponse(t *testing.T, resp *upload.Response, err error) {
	t.Helper()
	if imgmgr.KindOf(err) == imgmgr.KindInternal && err != nil {
		t.Fatalf("internal error for a client's body: %v", err)
	}
	if len(resp.Results) > 4 {
		t.Fatalf("%d results; at most 3 files and one refusal", len(resp.Results))
	}
	stored := 0
	for _, res := range resp.Results {
		switch {
		case res.Status == "created" && res.Image != nil:
			stored++
			if res.Image.ID == "" || len(res.Image.SHA256) != 64 || res.Image.Format == "" || res.Image.Size <= 0 {
				t.Fatalf("stored image incomplete: %+v", res.Image)
			}
			if _, herr := hex.DecodeString(res.Image.SHA256); herr != nil {
				t.Fatalf("sha256 %q", res.Image.SHA256)
			}
		case res.Status == "error" && res.Error != nil:
			if res.Error.Code == "internal" || res.Error.Code == "" {
				t.Fatalf("result error code %q (%s)", res.Error.Code, res.Error.Message)
			}
		default:
			t.Fatalf("malformed result %+v", res)
		}
	}
	if (err == nil) != (stored > 0) {
		t.Fatalf("err %v with %d stored files", err, stored)
	}
	if err != nil && (resp.Error == nil || resp.Error.Code != imgmgr.CodeOf(err)) {
		t.Fatalf("response error %+v does not match %v", resp.Error, err)
	}
}

// The fuzz harness must reach ingest's end: the seed shapes store files
// and meet each refusal, or FuzzMultipart would only test the parser.
func TestMultipartRealIngest(t *testing.T) {
	gps := string(testenv.ReadImage(t, "metadata/GPS.jpg"))
	gif := string(testenv.ReadImage(t, "animated/dispose-previous.gif"))
	end := "--" + fuzzBoundary + "--\r\n"
	m, owner := realMultipart(t)
	for _, c := range []struct {
		name, body string
		want       []string // per result: created or the error code
	}{
		{"one jpeg", part(fileHeaders("a.jpg"), gps) + end, []string{"created"}},
		{"four files", part(fileHeaders("a.jpg"), gps+"x") + part(fileHeaders("b.gif"), gif) + part(fileHeaders("c.jpg"), gps+"y") +
			part(fileHeaders("d.jpg"), gps) + end, []string{"created", "created", "created", "too_many_files"}},
		{"php", part(fileHeaders("evil.jpg"), "<?php echo 1; ?>") + end, []string{"unsupported_media_type"}},
		{"long field", part(`Content-Disposition: form-data; name="title"`, strings.Repeat("t", 100)) + end, []string{"field_too_large"}},
		{"truncated", part(fileHeaders("a.jpg"), gps[:len(gps)/2]), []string{"invalid_multipart"}},
		{"too large", part(fileHeaders("big.jpg"), gps+strings.Repeat("z", 70<<10)) + end, []string{"file_too_large"}},
	} {
		r := httptest.NewRequest("POST", "/api/v1/images", strings.NewReader(c.body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		resp, err := m.Receive(r, owner)
		var got []string
		for _, res := range resp.Results {
			if res.Error != nil {
				got = append(got, res.Error.Code)
			} else {
				got = append(got, res.Status)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: results %v (err %v), want %v", c.name, got, err, c.want)
		}
		checkResponse(t, resp, err)
	}
}
