package tus_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/upload/tus"
)

func TestOptions(t *testing.T) {
	e := newEnv(t, tus.Config{MaxSize: 1 << 20})
	resp := e.do("OPTIONS", e.url("/api/v1/uploads/"), nil, "Tus-Resumable", "")
	wantStatus(t, resp, http.StatusNoContent)
	wantHeader(t, resp, "Tus-Version", "1.0.0")
	wantHeader(t, resp, "Tus-Max-Size", "1048576")
	wantHeader(t, resp, "Tus-Checksum-Algorithm", "sha1,md5,sha256,sha512")
	for _, ext := range []string{"creation", "creation-with-upload", "creation-defer-length", "expiration",
		"checksum", "checksum-trailer", "termination", "concatenation"} {
		if !strings.Contains(","+resp.Header.Get("Tus-Extension")+",", ","+ext+",") {
			t.Errorf("Tus-Extension %q lacks %s", resp.Header.Get("Tus-Extension"), ext)
		}
	}
}

func TestVersionMismatchIs412WithTusVersion(t *testing.T) {
	e := newEnv(t, tus.Config{})
	u := e.create(10)
	for _, v := range []string{"", "0.2.2", "1.0"} {
		for _, req := range []struct{ method, url string }{{"POST", e.url("/api/v1/uploads/")}, {"HEAD", u}, {"PATCH", u}, {"DELETE", u}} {
			resp := e.do(req.method, req.url, nil, "Tus-Resumable", v, "Upload-Length", "5", "Upload-Offset", "0",
				"Content-Type", "application/offset+octet-stream")
			wantStatus(t, resp, http.StatusPreconditionFailed)
			wantHeader(t, resp, "Tus-Version", "1.0.0")
		}
	}
	// Nothing was processed: the upload is still there at offset 0.
	wantHeader(t, e.head(u), "Upload-Offset", "0")
}

func TestCreateAndHead(t *testing.T) {
	e := newEnv(t, tus.Config{})
	meta := "filename " + b64("cat.jpg") + ",title " + b64("A cat") + ",relativePath " + b64("x/cat.jpg") + ",empty"
	resp := e.do("POST", e.url("/api/v1/uploads/"), nil, "Upload-Length", "100", "Upload-Metadata", meta)
	wantStatus(t, resp, http.StatusCreated)
	loc := resp.Header.Get("Location")
	if !strings.HasPrefix(loc, e.srv.URL+"/api/v1/uploads/") {
		t.Fatalf("Location %q is not an absolute upload URL", loc)
	}
	wantHeader(t, resp, "Tus-Resumable", "1.0.0")
	exp, err := http.ParseTime(resp.Header.Get("Upload-Expires"))
	if err != nil || exp.Before(time.Now().Add(23*time.Hour)) {
		t.Fatalf("Upload-Expires %q (%v), want about 24h ahead", resp.Header.Get("Upload-Expires"), err)
	}
	h := e.head(loc)
	wantStatus(t, h, http.StatusOK)
	wantHeader(t, h, "Upload-Offset", "0")
	wantHeader(t, h, "Upload-Length", "100")
	wantHeader(t, h, "Upload-Metadata", meta)
	wantHeader(t, h, "Cache-Control", "no-store")
	wantHeader(t, h, "Tus-Resumable", "1.0.0")
	if got := e.events.types(); len(got) != 1 || got[0] != "upload.created" {
		t.Fatalf("events %v, want upload.created", got)
	}
}

func TestCreateRefusals(t *testing.T) {
	e := newEnv(t, tus.Config{MaxSize: 1000})
	tests := []struct {
		name    string
		headers []string
		status  int
		code    string
	}{
		{"no length", nil, 400, "invalid_header"},
		{"negative length", []string{"Upload-Length", "-1"}, 400, "invalid_header"},
		{"length and defer", []string{"Upload-Length", "5", "Upload-Defer-Length", "1"}, 400, "invalid_header"},
		{"defer not 1", []string{"Upload-Defer-Length", "2"}, 400, "invalid_header"},
		{"too large", []string{"Upload-Length", "1001"}, 413, "upload_too_large"},
		{"bad metadata base64", []string{"Upload-Length", "5", "Upload-Metadata", "filename ***"}, 400, "invalid_metadata"},
		{"duplicate metadata key", []string{"Upload-Length", "5", "Upload-Metadata", "a YQ==,a Yg=="}, 400, "invalid_metadata"},
		{"bad visibility", []string{"Upload-Length", "5", "Upload-Metadata", "visibility " + b64("secret")}, 400, "invalid_metadata"},
		{"bad concat", []string{"Upload-Length", "5", "Upload-Concat", "partial;x"}, 400, "invalid_concat"},
		{"final with length", []string{"Upload-Length", "5", "Upload-Concat", "final;/api/v1/uploads/x"}, 400, "invalid_header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do("POST", e.url("/api/v1/uploads/"), nil, tt.headers...)
			wantStatus(t, resp, tt.status)
			if tt.status == 413 {
				wantHeader(t, resp, "Tus-Max-Size", "1000")
			}
		})
	}
	if files := e.stagedFiles(); len(files) != 0 {
		t.Fatalf("refused creations left %v", files)
	}
}

func TestUploadInChunksCompletesThroughIngest(t *testing.T) {
	e := newEnv(t, tus.Config{})
	data := payload(3<<20 + 123)
	u := e.create(int64(len(data)), "Upload-Metadata", "filename "+b64("big.png")+",tags "+b64("a, B ,a")+",visibility "+b64("public"))
	const chunk = 1 << 20
	var last *http.Response
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		last = e.patch(u, int64(off), data[off:end])
		wantStatus(t, last, http.StatusNoContent)
		wantHeader(t, last, "Upload-Offset", strconv.Itoa(end))
	}
	wantHeader(t, last, "Upload-Image-Id", "img1")
	if got, want := e.ingest.lastHash(), sha256hex(data); got != want {
		t.Fatalf("ingested sha256 %s, want %s", got, want)
	}
	req := e.ingest.got[0]
	if req.Owner.UserID != "alice" || req.Filename != "big.png" || req.Visibility != "public" ||
		strings.Join(req.Tags, ",") != "a,b" || req.UploadID == "" {
		t.Fatalf("ingest request %+v", req)
	}
	h := e.head(u)
	wantStatus(t, h, http.StatusOK)
	wantHeader(t, h, "Upload-Offset", strconv.Itoa(len(data)))
	wantHeader(t, h, "Upload-Image-Id", "img1")
	for _, f := range e.stagedFiles() {
		if strings.HasSuffix(f, ".bin") {
			t.Fatalf("the bytes of a completed upload are still staged: %v", e.stagedFiles())
		}
	}
	// A client that resumes a finished upload is told it is finished.
	wantStatus(t, e.patch(u, int64(len(data)), nil), http.StatusNoContent)
}

func TestPatchRefusals(t *testing.T) {
	e := newEnv(t, tus.Config{})
	u := e.create(10)
	wantStatus(t, e.patch(u, 0, []byte("12345")), http.StatusNoContent)

	resp := e.patch(u, 0, []byte("abc"), "Content-Type", "application/octet-stream")
	wantStatus(t, resp, http.StatusUnsupportedMediaType)

	for _, off := range []int64{0, 4, 6} {
		resp = e.patch(u, off, []byte("abc"))
		wantStatus(t, resp, http.StatusConflict)
		wantHeader(t, resp, "Upload-Offset", "5")
	}
	wantStatus(t, e.patch(u, 5, []byte("123456")), http.StatusRequestEntityTooLarge)
	wantStatus(t, e.do("PATCH", u, strings.NewReader("x")), http.StatusBadRequest) // no Upload-Offset
	wantStatus(t, e.patch(u, 5, []byte("x"), "X-Test-User", "mallory"), http.StatusNotFound)
	wantStatus(t, e.do("HEAD", u, nil, "X-Test-User", "mallory"), http.StatusNotFound)
	wantStatus(t, e.patch(e.url("/api/v1/uploads/nosuch"), 0, []byte("x")), http.StatusNotFound)
	wantStatus(t, e.do("HEAD", u, nil, "X-Test-User", ""), http.StatusUnauthorized)
	wantHeader(t, e.head(u), "Upload-Offset", "5")
}

// A chunked body longer than the upload is refused and discarded.
func TestPatchChunkedBodyPastLength(t *testing.T) {
	e := newEnv(t, tus.Config{})
	u := e.create(4)
	resp := e.do("PATCH", u, io.MultiReader(strings.NewReader("12345678")), "Upload-Offset", "0")
	wantStatus(t, resp, http.StatusRequestEntityTooLarge)
	wantHeader(t, e.head(u), "Upload-Offset", "0")
}

func TestTermination(t *testing.T) {
	e := newEnv(t, tus.Config{})
	u := e.create(10)
	e.patch(u, 0, []byte("12345"))
	wantStatus(t, e.do("DELETE", u, nil, "X-Test-User", "mallory"), http.StatusNotFound)
	wantStatus(t, e.do("DELETE", u, nil), http.StatusNoContent)
	wantStatus(t, e.head(u), http.StatusNotFound)
	wantStatus(t, e.patch(u, 5, []byte("x")), http.StatusNotFound)
	if files := e.stagedFiles(); len(files) != 0 {
		t.Fatalf("terminated upload left %v", files)
	}
}

func TestMethodOverride(t *testing.T) {
	e := newEnv(t, tus.Config{})
	u := e.create(3)
	resp := e.do("POST", u, bytes.NewReader([]byte("abc")), "X-HTTP-Method-Override", "PATCH", "Upload-Offset", "0")
	wantStatus(t, resp, http.StatusNoContent)
	wantHeader(t, resp, "Upload-Offset", "3")
	wantStatus(t, e.do("POST", u, nil, "X-HTTP-Method-Override", "DELETE"), http.StatusNoContent)
}

func TestRejectedFileLeavesNothing(t *testing.T) {
	e := newEnv(t, tus.Config{})
	e.ingest.fail = append(e.ingest.fail, errUnsupported())
	u := e.create(6)
	e.patch(u, 0, []byte("abc"))
	resp := e.patch(u, 3, []byte("def"))
	wantStatus(t, resp, http.StatusUnsupportedMediaType)
	wantStatus(t, e.head(u), http.StatusNotFound)
	if files := e.stagedFiles(); len(files) != 0 {
		t.Fatalf("a rejected upload left %v", files)
	}
}

// An ingest failure worth retrying (503) keeps the upload one byte short,
// so the client's retry sends the last byte and runs ingest again.
func TestRetryableIngestFailureKeepsUpload(t *testing.T) {
	e := newEnv(t, tus.Config{})
	e.ingest.fail = append(e.ingest.fail, errBusy())
	data := payload(1000)
	u := e.create(1000)
	resp := e.patch(u, 0, data)
	wantStatus(t, resp, http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	wantHeader(t, e.head(u), "Upload-Offset", "999")
	resp = e.patch(u, 999, data[999:])
	wantStatus(t, resp, http.StatusNoContent)
	wantHeader(t, resp, "Upload-Image-Id", "img1")
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
}

func TestZeroByteUploadIsRejectedAtCreation(t *testing.T) {
	e := newEnv(t, tus.Config{})
	resp := e.do("POST", e.url("/api/v1/uploads/"), nil, "Upload-Length", "0")
	wantStatus(t, resp, http.StatusBadRequest)
	if files := e.stagedFiles(); len(files) != 0 {
		t.Fatalf("a zero-byte upload left %v", files)
	}
}

// The body broke off mid-PATCH: what arrived is kept and acknowledged.
func TestInterruptedPatchKeepsReceivedBytes(t *testing.T) {
	e := newEnv(t, tus.Config{})
	u := e.create(1 << 20)
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PATCH", u, pr)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("X-Test-User", "alice")
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.ContentLength = 1 << 20
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	data := payload(1 << 20)
	pw.Write(data[:300000])
	waitFor(t, func() bool { return e.stagedSize(u) >= 300000 })
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-done
	waitFor(t, func() bool { return e.head(u).Header.Get("Upload-Offset") == "300000" })
	// The interrupted request may still hold the lock for a moment: retry
	// on 423 as clients do.
	waitFor(t, func() bool { return e.patch(u, 300000, data[300000:]).StatusCode != http.StatusLocked })
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
}

func TestLocationBehindProxy(t *testing.T) {
	tests := []struct {
		name    string
		cfg     tus.Config
		prefix  string
		forward bool
	}{
		{"untrusted peer", tus.Config{}, "http://127.0.0.1", true},
		{"trusted peer", tus.Config{TrustedProxies: loopback()}, "https://img.example.org/api/v1/uploads/", true},
		{"public url wins", tus.Config{PublicURL: "https://pub.example.org", TrustedProxies: loopback()}, "https://pub.example.org/api/v1/uploads/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.cfg)
			resp := e.do("POST", e.url("/api/v1/uploads/"), nil, "Upload-Length", "5",
				"X-Forwarded-Proto", "https", "X-Forwarded-Host", "img.example.org")
			if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, tt.prefix) {
				t.Fatalf("Location %q, want prefix %q", loc, tt.prefix)
			}
		})
	}
}

func TestUnfinishedUploadsPerUser(t *testing.T) {
	e := newEnv(t, tus.Config{MaxUnfinishedPerUser: 2})
	a := e.create(5)
	e.create(5)
	wantStatus(t, e.do("POST", e.url("/api/v1/uploads/"), nil, "Upload-Length", "5"), http.StatusTooManyRequests)
	e.create(5, "X-Test-User", "bob") // another user is not limited by alice's
	wantStatus(t, e.patch(a, 0, []byte("12345")), http.StatusNoContent)
	e.create(5) // a finished upload frees its place
}

// A restarted server (a new handler on the same staging directory) resumes.
func TestResumeAfterRestart(t *testing.T) {
	e := newEnv(t, tus.Config{})
	data := payload(5000)
	u := e.create(5000)
	e.patch(u, 0, data[:2000])
	h2, err := tus.New(t.Context(), tus.Config{}, tus.Deps{Store: e.store, Ingest: e.ingest})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h2
	wantHeader(t, e.head(u), "Upload-Offset", "2000")
	wantStatus(t, e.patch(u, 2000, data[2000:]), http.StatusNoContent)
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
}
