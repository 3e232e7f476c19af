package tus_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/tus"
)

// fakeIngest is a test double of ingest.Service for these tests only: it
// hashes the file like ingest would and returns an image, or the errors
// queued in fail. Real ingest runs in the end-to-end suites.
type fakeIngest struct {
	mu     sync.Mutex
	fail   []error // returned (and removed) one per call, before hashing
	got    []ingest.Request
	hashes []string
	events tus.Publisher
}

func (f *fakeIngest) IngestFile(ctx context.Context, req ingest.Request, file *os.File) (*imgmgr.Image, error) {
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return f.IngestReader(ctx, req, file)
}

func (f *fakeIngest) IngestReader(ctx context.Context, req ingest.Request, r io.Reader) (*imgmgr.Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, req)
	if len(f.fail) > 0 {
		err := f.fail[0]
		f.fail = f.fail[1:]
		return nil, err
	}
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "empty_file", "the file is empty")
	}
	sum := hex.EncodeToString(h.Sum(nil))
	f.hashes = append(f.hashes, sum)
	im := &imgmgr.Image{ID: "img" + strconv.Itoa(len(f.hashes)), OwnerID: req.Owner.UserID, SHA256: sum, Size: n}
	if f.events != nil {
		f.events.Publish(ctx, imgmgr.Event{Type: imgmgr.EventUploadCompleted, UserID: req.Owner.UserID, UploadID: req.UploadID, ImageID: im.ID})
	}
	return im, nil
}

func (f *fakeIngest) lastHash() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.hashes) == 0 {
		return ""
	}
	return f.hashes[len(f.hashes)-1]
}

// recorder collects published events.
type recorder struct {
	mu  sync.Mutex
	evs []imgmgr.Event
}

func (r *recorder) Publish(ctx context.Context, ev imgmgr.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
	return nil
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var t []string
	for _, e := range r.evs {
		t = append(t, e.Type)
	}
	return t
}

// clock is a movable time for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t      *testing.T
	srv    *httptest.Server
	h      *tus.Handler
	store  *staging.Local
	dir    string
	ingest *fakeIngest
	events *recorder
	clock  *clock
}

// newEnv starts the tus handler behind httpapi's error writer, with the
// caller named by the X-Test-User header (authentication is httpapi's job).
func newEnv(t *testing.T, cfg tus.Config) *env {
	t.Helper()
	dir := t.TempDir()
	store, err := staging.NewLocal(staging.LocalConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, store: store, dir: dir, ingest: &fakeIngest{}, events: &recorder{},
		clock: &clock{t: time.Now()}}
	e.h, err = tus.New(context.Background(), cfg, tus.Deps{Store: store, Ingest: e.ingest, Events: e.events, Now: e.clock.now})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("X-Test-User"); u != "" {
			r = r.WithContext(imgmgr.WithPrincipal(r.Context(), imgmgr.Principal{UserID: u, Username: u, Role: imgmgr.RoleUser}))
		}
		if err := e.h.Serve(w, r); err != nil {
			httpapi.WriteError(w, r, log, err)
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) url(path string) string { return e.srv.URL + path }

// do sends a tus request as user "alice" unless headers say otherwise.
func (e *env) do(method, url string, body io.Reader, headers ...string) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", tus.Version)
	req.Header.Set("X-Test-User", "alice")
	if body != nil {
		req.Header.Set("Content-Type", "application/offset+octet-stream")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// create makes an upload of length n and returns its URL.
func (e *env) create(n int64, headers ...string) string {
	e.t.Helper()
	resp := e.do("POST", e.url("/api/v1/uploads/"), nil, append([]string{"Upload-Length", strconv.FormatInt(n, 10)}, headers...)...)
	wantStatus(e.t, resp, http.StatusCreated)
	return resp.Header.Get("Location")
}

func (e *env) patch(url string, offset int64, b []byte, headers ...string) *http.Response {
	e.t.Helper()
	return e.do("PATCH", url, bytes.NewReader(b), append([]string{"Upload-Offset", strconv.FormatInt(offset, 10)}, headers...)...)
}

func (e *env) head(url string) *http.Response { e.t.Helper(); return e.do("HEAD", url, nil) }

func wantStatus(t *testing.T, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d (headers %v)", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, resp.Header)
	}
}

func wantHeader(t *testing.T, resp *http.Response, name, want string) {
	t.Helper()
	if got := resp.Header.Get(name); got != want {
		t.Fatalf("%s %s: %s = %q, want %q", resp.Request.Method, resp.Request.URL.Path, name, got, want)
	}
}

func sha256hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// payload is n deterministic bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>9)
	}
	return b
}

// stagedFiles lists what is left in the staging directory.
func (e *env) stagedFiles() []string {
	e.t.Helper()
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		e.t.Fatal(err)
	}
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	return names
}

func errUnsupported() error {
	return imgmgr.Errorf(imgmgr.KindUnsupportedMedia, "unsupported_media_type", "the content is not a supported image type")
}

func errBusy() error {
	return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "busy", Message: "busy", RetryAfter: 2 * time.Second}
}

func loopback() []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")} }

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached in 10s")
}

// stagedSize is the size of an upload's data file (written, maybe not committed).
func (e *env) stagedSize(url string) int64 {
	id := url[strings.LastIndex(url, "/")+1:]
	st, err := os.Stat(filepath.Join(e.dir, id+".bin"))
	if err != nil {
		return -1
	}
	return st.Size()
}
