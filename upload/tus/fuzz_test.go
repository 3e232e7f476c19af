package tus_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/tus"
)

// FuzzParseMetadata: any Upload-Metadata header either parses into clean
// values that survive a round trip (encode what was understood, parse it
// again, get the same), or is refused as the client's error.
func FuzzParseMetadata(f *testing.F) {
	for _, s := range []string{
		"", "filename " + b64("a.jpg"), "filename " + b64("a.jpg") + ",filetype " + b64("image/jpeg"),
		"name " + b64("b.png") + ", title " + b64("Tïtle") + ",album " + b64("Holiday") + ",tags " + b64("a, b,c") + ",visibility " + b64("public"),
		"relativePath null,filename " + b64("x"), "is_confidential", "filename", "filename ,title ", "filename YQ==,filename YQ==",
		"visibility " + b64("secret"), "tags " + b64(strings.Repeat("t,", 60)), "title " + b64("a\x00b"), "title !!!!", "ключ YQ==",
	} {
		f.Add(s)
	}
	const maxBytes = 4096
	f.Fuzz(func(t *testing.T, header string) {
		md, err := tus.ParseMetadata(header, maxBytes)
		if err != nil {
			if k := imgmgr.KindOf(err); k != imgmgr.KindInvalid {
				t.Fatalf("refusal of kind %v (%v), want invalid", k, err)
			}
			return
		}
		if len(header) > maxBytes {
			t.Fatalf("a %d-byte header passed the %d-byte limit", len(header), maxBytes)
		}
		if md.Visibility != "" && !md.Visibility.Valid() {
			t.Fatalf("visibility %q passed", md.Visibility)
		}
		again, err := tus.ParseMetadata(encodeMetadata(md), 1<<20)
		if err != nil {
			t.Fatalf("re-encoded %+v does not parse: %v", md, err)
		}
		if len(md.Tags) == 0 {
			md.Tags = nil // "tags" with no tag in it is no tags
		}
		if !reflect.DeepEqual(md, again) {
			t.Fatalf("round trip changed %+v into %+v", md, again)
		}
	})
}

// encodeMetadata writes the values imgmgr understood as a header.
func encodeMetadata(md tus.Metadata) string {
	var pairs []string
	add := func(k, v string) {
		if v != "" {
			pairs = append(pairs, k+" "+b64(v))
		}
	}
	add("filename", md.Filename)
	add("filetype", md.Filetype)
	add("title", md.Title)
	add("album", md.Album)
	add("tags", strings.Join(md.Tags, ","))
	add("visibility", string(md.Visibility))
	return strings.Join(pairs, ",")
}

// nullIngest accepts any non-empty file as an image; it keeps nothing, so
// that millions of fuzz runs do not grow memory.
type nullIngest struct{}

func (nullIngest) IngestFile(ctx context.Context, req ingest.Request, f *os.File) (*imgmgr.Image, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "empty_file", "the file is empty")
	}
	return &imgmgr.Image{ID: "img", OwnerID: req.Owner.UserID, Size: st.Size()}, nil
}

func (nullIngest) IngestReader(ctx context.Context, req ingest.Request, r io.Reader) (*imgmgr.Image, error) {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "empty_file", "the file is empty")
	}
	return &imgmgr.Image{ID: "img", OwnerID: req.Owner.UserID, Size: n}, nil
}

// fuzzServer is the tus handler behind httpapi's error writer, called in
// process (no sockets), as user alice.
type fuzzServer struct {
	h   *tus.Handler
	log *slog.Logger
}

func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	store, err := staging.NewLocal(staging.LocalConfig{Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	h, err := tus.New(context.Background(), tus.Config{MaxSize: 1 << 20, MaxUnfinishedPerUser: 1 << 30},
		tus.Deps{Store: store, Ingest: nullIngest{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	return &fuzzServer{h: h, log: slog.New(slog.DiscardHandler)}
}

// do sends one request; headers with an empty value are left out.
func (s *fuzzServer) do(method, target string, body []byte, headers ...string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			r.Header.Set(headers[i], headers[i+1])
		}
	}
	r = r.WithContext(imgmgr.WithPrincipal(r.Context(), imgmgr.Principal{UserID: "alice", Username: "alice", Role: imgmgr.RoleUser}))
	w := httptest.NewRecorder()
	if err := s.h.Serve(w, r); err != nil {
		httpapi.WriteError(w, r, s.log, err)
	}
	return w
}

// FuzzTusHeaders sends a creation POST and a PATCH with fuzzed protocol
// headers and body. No header value may cause a 5xx or a panic; a created
// upload must describe itself as created (HEAD), and an accepted PATCH
// must move the offset by exactly the bytes sent.
func FuzzTusHeaders(f *testing.F) {
	f.Add("1.0.0", "5", "", "", "filename "+b64("a.jpg"), "0", "application/offset+octet-stream", "", []byte("hello"))
	f.Add("1.0.0", "", "1", "", "", "0", "application/offset+octet-stream", "sha1 "+base64.StdEncoding.EncodeToString([]byte("01234567890123456789")), []byte("abc"))
	f.Add("1.0.0", "3", "", "partial", "", "0", "application/offset+octet-stream; charset=x", "md5 xxx", []byte("abcd"))
	f.Add("1.0.0", "", "", "final;/api/v1/uploads/x /api/v1/uploads/y", "", "", "", "", []byte(nil))
	f.Add("0.2.2", "-1", "0", "final;", "filename ???", "+1", "text/plain", "sha256", []byte("z"))
	f.Add("1.0.0", "99999999999999999999", "", "", "a b,a b", "18446744073709551615", "application/offset+octet-stream", "", []byte{})
	s := newFuzzServer(f) // one per fuzz worker process
	f.Fuzz(func(t *testing.T, version, length, deferLength, concat, metadata, offset, contentType, checksum string, body []byte) {
		w := s.do("POST", "/api/v1/uploads/", nil, "Tus-Resumable", version, "Upload-Length", length,
			"Upload-Defer-Length", deferLength, "Upload-Concat", concat, "Upload-Metadata", metadata)
		noServerError(t, "POST", w)
		if w.Code != http.StatusCreated {
			return
		}
		loc := w.Header().Get("Location")
		path := loc[strings.Index(loc, "/api/v1/uploads/"):]
		defer func() { noServerError(t, "DELETE", s.do("DELETE", path, nil, "Tus-Resumable", tus.Version)) }()
		head := s.do("HEAD", path, nil, "Tus-Resumable", tus.Version)
		checkCreated(t, head, length, deferLength, concat)
		w = s.do("PATCH", path, body, "Tus-Resumable", version, "Upload-Offset", offset, "Content-Type", contentType,
			"Upload-Checksum", checksum, "Upload-Length", length)
		noServerError(t, "PATCH", w)
		if w.Code == http.StatusNoContent {
			want, _ := strconv.ParseInt(offset, 10, 64)
			if got := w.Header().Get("Upload-Offset"); got != strconv.FormatInt(want+int64(len(body)), 10) {
				t.Fatalf("PATCH at %s with %d bytes answered Upload-Offset %s", offset, len(body), got)
			}
		}
	})
}

func noServerError(t *testing.T, what string, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s answered %d: %s", what, w.Code, w.Body)
	}
	if w.Code >= 400 && !strings.Contains(w.Body.String(), `"code"`) {
		t.Fatalf("%s answered %d without an error code: %s", what, w.Code, w.Body)
	}
}

func checkCreated(t *testing.T, head *httptest.ResponseRecorder, length, deferLength, concat string) {
	t.Helper()
	if head.Code != http.StatusOK {
		t.Fatalf("HEAD of a created upload: %d %s", head.Code, head.Body)
	}
	hd := head.Header()
	switch {
	case strings.HasPrefix(concat, "final;"):
	case deferLength != "":
		if hd.Get("Upload-Defer-Length") != "1" || hd.Get("Upload-Length") != "" {
			t.Fatalf("deferred upload described as length %q defer %q", hd.Get("Upload-Length"), hd.Get("Upload-Defer-Length"))
		}
	default: // "01" is a valid length, described as "1"
		sent, _ := strconv.ParseInt(length, 10, 64)
		if hd.Get("Upload-Length") != strconv.FormatInt(sent, 10) {
			t.Fatalf("created with Upload-Length %q, HEAD says %q", length, hd.Get("Upload-Length"))
		}
	}
	if !strings.HasPrefix(concat, "final;") && hd.Get("Upload-Offset") != "0" {
		t.Fatalf("a new upload at offset %q", hd.Get("Upload-Offset"))
	}
}

// The fuzz harness must reach the PATCH and completion, or FuzzTusHeaders
// would only exercise refusals.
func TestFuzzHarnessCompletesAnUpload(t *testing.T) {
	s := newFuzzServer(t)
	w := s.do("POST", "/api/v1/uploads/", nil, "Tus-Resumable", tus.Version, "Upload-Length", "5")
	if w.Code != http.StatusCreated {
		t.Fatalf("POST %d %s", w.Code, w.Body)
	}
	loc := w.Header().Get("Location")
	w = s.do("PATCH", loc[strings.Index(loc, "/api/v1/uploads/"):], []byte("hello"), "Tus-Resumable", tus.Version,
		"Upload-Offset", "0", "Content-Type", "application/offset+octet-stream")
	if w.Code != http.StatusNoContent || w.Header().Get("Upload-Image-Id") != "img" || w.Header().Get("Upload-Offset") != "5" {
		t.Fatalf("PATCH %d %v %s", w.Code, w.Header(), w.Body)
	}
}
