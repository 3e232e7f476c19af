package tus_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/upload/tus"
)

func digest(alg string, b []byte) string {
	var sum []byte
	switch alg {
	case "sha1":
		s := sha1.Sum(b)
		sum = s[:]
	case "md5":
		s := md5.Sum(b)
		sum = s[:]
	case "sha256":
		s := sha256.Sum256(b)
		sum = s[:]
	}
	return alg + " " + base64.StdEncoding.EncodeToString(sum)
}

func TestChecksum(t *testing.T) {
	e := newEnv(t, tus.Config{})
	chunk := []byte("hello world")
	tests := []struct {
		name   string
		header string
		status int
		offset string
	}{
		{"sha1 good", digest("sha1", chunk), 204, "11"},
		{"md5 good", digest("md5", chunk), 204, "11"},
		{"sha256 good", digest("sha256", chunk), 204, "11"},
		{"spec example", "sha1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=", 204, "11"},
		{"sha1 mismatch", digest("sha1", []byte("hello worle")), 460, "0"},
		{"sha256 mismatch", digest("sha256", []byte("x")), 460, "0"},
		{"unknown algorithm", "crc32 DUoRhQ==", 400, "0"},
		{"upper-case algorithm", "SHA1 Kq5sNclPz7QV2+lfQIuc6R7oRu0=", 400, "0"},
		{"not base64", "sha1 !!!", 400, "0"},
		{"wrong digest length", "sha1 " + base64.StdEncoding.EncodeToString([]byte("short")), 400, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := e.create(100)
			resp := e.patch(u, 0, chunk, "Upload-Checksum", tt.header)
			wantStatus(t, resp, tt.status)
			wantHeader(t, e.head(u), "Upload-Offset", tt.offset)
			if tt.status != 204 {
				if size := e.stagedSize(u); size > 0 {
					t.Fatalf("the refused chunk's %d bytes are still staged", size)
				}
				// The discarded chunk can be sent again, correctly.
				wantStatus(t, e.patch(u, 0, chunk, "Upload-Checksum", digest("sha1", chunk)), 204)
			}
		})
	}
}

// checksum-trailer: the digest comes after a chunked body.
func TestChecksumTrailer(t *testing.T) {
	e := newEnv(t, tus.Config{})
	chunk := payload(200000)
	for _, tt := range []struct {
		name    string
		trailer string
		status  int
	}{
		{"good", digest("sha256", chunk), 204},
		{"mismatch", digest("sha1", chunk[1:]), 460},
		{"unknown algorithm", "crc32 DUoRhQ==", 400},
		{"announced, not sent", "", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := e.create(int64(len(chunk)) + 1)
			body := &trailerBody{r: bytes.NewReader(chunk)}
			req, _ := http.NewRequest("PATCH", u, body)
			req.Header.Set("Tus-Resumable", "1.0.0")
			req.Header.Set("X-Test-User", "alice")
			req.Header.Set("Upload-Offset", "0")
			req.Header.Set("Content-Type", "application/offset+octet-stream")
			req.Trailer = http.Header{"Upload-Checksum": nil}
			body.done = func() {
				if tt.trailer != "" {
					req.Trailer.Set("Upload-Checksum", tt.trailer)
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			wantStatus(t, resp, tt.status)
			want := "0"
			if tt.status == 204 {
				want = strconv.Itoa(len(chunk))
			}
			wantHeader(t, e.head(u), "Upload-Offset", want)
		})
	}
}

// trailerBody calls done when its reader is exhausted, so trailers can be
// set after the body, as the net/http client requires.
type trailerBody struct {
	r    io.Reader
	done func()
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF && b.done != nil {
		b.done()
		b.done = nil
	}
	return n, err
}

func TestExpirationAndSweep(t *testing.T) {
	e := newEnv(t, tus.Config{Expiry: time.Hour, KeepRecords: time.Hour})
	u := e.create(10)
	e.patch(u, 0, []byte("12345"))
	done := e.create(3)
	e.patch(done, 0, []byte("abc"))

	e.clock.add(time.Hour + time.Second)
	wantStatus(t, e.head(u), http.StatusGone)
	wantStatus(t, e.patch(u, 5, []byte("67890")), http.StatusGone)
	wantStatus(t, e.head(done), http.StatusOK) // a completed upload does not expire

	expired, removed, err := e.h.Sweep(t.Context())
	if err != nil || expired != 1 || removed != 0 {
		t.Fatalf("Sweep = %d expired, %d removed, %v; want 1, 0", expired, removed, err)
	}
	if e.stagedSize(u) != -1 {
		t.Fatal("the sweep left the expired upload's bytes")
	}
	wantStatus(t, e.head(u), http.StatusGone)

	e.clock.add(time.Hour)
	if _, removed, _ := e.h.Sweep(t.Context()); removed != 2 {
		t.Fatalf("second sweep removed %d records, want 2", removed)
	}
	wantStatus(t, e.head(u), http.StatusNotFound)
	if files := e.stagedFiles(); len(files) != 0 {
		t.Fatalf("after the sweeps: %v", files)
	}
	if got := e.events.types(); !strings.Contains(strings.Join(got, " "), "upload.failed") {
		t.Fatalf("events %v lack upload.failed for the expiry", got)
	}
}

// slowPatch starts a PATCH whose body the test feeds; it returns the pipe
// and a channel with the response status.
func (e *env) slowPatch(url string, offset, length int64) (*io.PipeWriter, chan int) {
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PATCH", url, pr)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("X-Test-User", "alice")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.ContentLength = length
	status := make(chan int, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	return pw, status
}

// Two concurrent PATCHes: the second is refused with 423 while the first
// is receiving, and nothing interleaves.
func TestConcurrentPatchIsLocked(t *testing.T) {
	e := newEnv(t, tus.Config{LockStaleAfter: time.Minute})
	data := payload(100000)
	u := e.create(int64(len(data)))
	pw, first := e.slowPatch(u, 0, int64(len(data)))
	pw.Write(data[:1000])
	waitFor(t, func() bool { return e.stagedSize(u) >= 1000 })

	resp := e.patch(u, 0, data)
	wantStatus(t, resp, http.StatusLocked)
	wantStatus(t, e.do("DELETE", u, nil), http.StatusLocked)

	pw.Write(data[1000:])
	pw.Close()
	if s := <-first; s != http.StatusNoContent {
		t.Fatalf("first PATCH: %d", s)
	}
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
}

// A lock holder whose client went quiet yields to the client's new request
// and keeps what it had received.
func TestStaleLockHolderYields(t *testing.T) {
	e := newEnv(t, tus.Config{LockStaleAfter: 50 * time.Millisecond})
	data := payload(100000)
	u := e.create(int64(len(data)))
	pw, first := e.slowPatch(u, 0, int64(len(data)))
	defer pw.Close()
	pw.Write(data[:4000])
	waitFor(t, func() bool { return e.stagedSize(u) >= 4000 })
	time.Sleep(100 * time.Millisecond)

	resp := e.patch(u, 4000, data[4000:])
	wantStatus(t, resp, http.StatusNoContent)
	if s := <-first; s == http.StatusNoContent {
		t.Fatal("the interrupted PATCH succeeded")
	}
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
}

// Regression (issue 10 item 11): PATCH took the upload's lock before it
// checked ownership, so another user who knew the id could interrupt the
// owner's stalled PATCH (the owner's request ended in 400). Now a stranger
// gets 404 and the owner's PATCH goes on undisturbed.
func TestStrangerCannotInterruptOwnersPatch(t *testing.T) {
	e := newEnv(t, tus.Config{LockStaleAfter: 50 * time.Millisecond})
	data := payload(100000)
	u := e.create(int64(len(data)))
	pw, first := e.slowPatch(u, 0, int64(len(data)))
	pw.Write(data[:4000])
	waitFor(t, func() bool { return e.stagedSize(u) >= 4000 })
	time.Sleep(100 * time.Millisecond) // the owner's lease is stale now

	wantStatus(t, e.patch(u, 4000, data[4000:], "X-Test-User", "mallory"), http.StatusNotFound)
	wantStatus(t, e.do("DELETE", u, nil, "X-Test-User", "mallory"), http.StatusNotFound)
	pw.Write(data[4000:])
	pw.Close()
	if s := <-first; s != http.StatusNoContent {
		t.Fatalf("the owner's PATCH: %d, want 204", s)
	}
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
}

func TestConcatenation(t *testing.T) {
	e := newEnv(t, tus.Config{})
	data := payload(300001)
	cuts := []int{0, 100000, 200000, len(data)}
	var urls []string
	for i := 0; i < 3; i++ {
		u := e.create(int64(cuts[i+1]-cuts[i]), "Upload-Concat", "partial")
		wantHeader(t, e.head(u), "Upload-Concat", "partial")
		urls = append(urls, u)
	}
	// Parts are sent in reverse order, as parallel uploads finish in any order.
	for i := 2; i >= 0; i-- {
		wantStatus(t, e.patch(urls[i], 0, data[cuts[i]:cuts[i+1]]), http.StatusNoContent)
	}
	if len(e.ingest.got) != 0 {
		t.Fatal("a partial upload was ingested on its own")
	}
	// Relative and absolute URLs may be mixed.
	rel := urls[1][len(e.srv.URL):]
	concat := "final;" + urls[0] + " " + rel + " " + urls[2]
	resp := e.do("POST", e.url("/api/v1/uploads/"), nil, "Upload-Concat", concat, "Upload-Metadata", "filename "+b64("p.jpg"))
	wantStatus(t, resp, http.StatusCreated)
	wantHeader(t, resp, "Upload-Image-Id", "img1")
	wantHeader(t, resp, "Upload-Length", strconv.Itoa(len(data)))
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("the concatenation differs from the parts in order")
	}
	if e.ingest.got[0].Filename != "p.jpg" {
		t.Fatalf("final upload metadata not used: %+v", e.ingest.got[0])
	}
	final := resp.Header.Get("Location")
	h := e.head(final)
	wantHeader(t, h, "Upload-Offset", strconv.Itoa(len(data)))
	if !strings.HasPrefix(h.Header.Get("Upload-Concat"), "final;") {
		t.Fatalf("HEAD of final: Upload-Concat %q", h.Header.Get("Upload-Concat"))
	}
	wantStatus(t, e.patch(final, 0, []byte("x")), http.StatusForbidden)
	wantStatus(t, e.patch(final, int64(len(data)), nil), http.StatusForbidden)
	for _, u := range urls {
		wantStatus(t, e.head(u), http.StatusNotFound) // parts are freed after concatenation
	}
}

func TestConcatenationRefusals(t *testing.T) {
	e := newEnv(t, tus.Config{})
	part := e.create(5, "Upload-Concat", "partial")
	plain := e.create(5)
	e.patch(plain, 0, []byte("12345"))
	bobs := e.create(5, "Upload-Concat", "partial", "X-Test-User", "bob")
	e.patch(bobs, 0, []byte("12345"), "X-Test-User", "bob")
	for _, tt := range []struct{ name, concat string }{
		{"unfinished part", "final;" + part},
		{"not a partial", "final;" + plain},
		{"someone else's part", "final;" + bobs},
		{"foreign URL", "final;https://elsewhere.example/files/abc"},
		{"no parts", "final;"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			wantStatus(t, e.do("POST", e.url("/api/v1/uploads/"), nil, "Upload-Concat", tt.concat), http.StatusBadRequest)
		})
	}
}

func TestRejectedConcatenationRemovesParts(t *testing.T) {
	e := newEnv(t, tus.Config{})
	e.ingest.fail = append(e.ingest.fail, errUnsupported())
	a := e.create(3, "Upload-Concat", "partial")
	b := e.create(3, "Upload-Concat", "partial")
	e.patch(a, 0, []byte("abc"))
	e.patch(b, 0, []byte("def"))
	resp := e.do("POST", e.url("/api/v1/uploads/"), nil, "Upload-Concat", "final;"+a+" "+b)
	wantStatus(t, resp, http.StatusUnsupportedMediaType)
	if files := e.stagedFiles(); len(files) != 0 {
		t.Fatalf("a rejected concatenation left %v", files)
	}
}

func TestDeferredLength(t *testing.T) {
	e := newEnv(t, tus.Config{MaxSize: 1000})
	resp := e.do("POST", e.url("/api/v1/uploads/"), nil, "Upload-Defer-Length", "1")
	wantStatus(t, resp, http.StatusCreated)
	u := resp.Header.Get("Location")
	h := e.head(u)
	wantHeader(t, h, "Upload-Defer-Length", "1")
	wantHeader(t, h, "Upload-Length", "")
	data := payload(700)
	wantStatus(t, e.patch(u, 0, data[:300]), http.StatusNoContent)
	wantStatus(t, e.patch(u, 300, data[300:400], "Upload-Length", "2000"), http.StatusRequestEntityTooLarge)
	wantStatus(t, e.patch(u, 300, data[300:400], "Upload-Length", "299"), http.StatusBadRequest)
	wantStatus(t, e.patch(u, 300, data[300:600]), http.StatusNoContent)
	// The length arrives with an empty last PATCH, as tus-js-client sends it
	// when the stream ends on a chunk boundary.
	wantStatus(t, e.patch(u, 600, data[600:]), http.StatusNoContent)
	resp = e.patch(u, 700, nil, "Upload-Length", "700")
	wantStatus(t, resp, http.StatusNoContent)
	wantHeader(t, resp, "Upload-Image-Id", "img1")
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
	// A set length cannot change.
	u2 := e.create(10)
	wantStatus(t, e.patch(u2, 0, []byte("1"), "Upload-Length", "11"), http.StatusBadRequest)
}

func TestCreationWithUpload(t *testing.T) {
	e := newEnv(t, tus.Config{})
	data := payload(5000)
	// Part of the file in the POST.
	resp := e.do("POST", e.url("/api/v1/uploads/"), bytes.NewReader(data[:2000]), "Upload-Length", "5000")
	wantStatus(t, resp, http.StatusCreated)
	wantHeader(t, resp, "Upload-Offset", "2000")
	u := resp.Header.Get("Location")
	wantStatus(t, e.patch(u, 2000, data[2000:]), http.StatusNoContent)
	// The whole file in the POST: ingested before the answer.
	resp = e.do("POST", e.url("/api/v1/uploads/"), bytes.NewReader(data), "Upload-Length", "5000",
		"Upload-Checksum", digest("sha1", data))
	wantStatus(t, resp, http.StatusCreated)
	wantHeader(t, resp, "Upload-Offset", "5000")
	wantHeader(t, resp, "Upload-Image-Id", "img2")
	// A body that is not an offset stream is refused.
	resp = e.do("POST", e.url("/api/v1/uploads/"), bytes.NewReader(data), "Upload-Length", "5000", "Content-Type", "image/jpeg")
	wantStatus(t, resp, http.StatusUnsupportedMediaType)
}

func TestProgressEventsAreThrottled(t *testing.T) {
	e := newEnv(t, tus.Config{ProgressEvery: time.Hour})
	u := e.create(1000)
	for off := 0; off < 900; off += 100 {
		e.patch(u, int64(off), payload(100))
	}
	n := 0
	for _, typ := range e.events.types() {
		if typ == "upload.progress" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d progress events within the throttle period, want 1 (%v)", n, e.events.types())
	}
}
