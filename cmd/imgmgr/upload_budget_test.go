package main

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/imgmgr/imgmgr/config"
)

// Regression (issue 10, item 1): a request without Content-Length
// (Transfer-Encoding: chunked) was charged 1 MiB of the upload byte budget
// whatever it carried, so with ratelimit.upload_mib_per_minute=10 chunked
// uploads of several MB went on being accepted after a sized one would
// have been refused. Now they pay each MiB as it is read: the second
// 6.5 MiB chunked upload runs out of budget (429), and so does the next
// request, with Retry-After. Multipart and tus alike.
func TestChunkedUploadsSpendTheByteBudget(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Rate.UploadMiBPerMinute, c.Rate.UploadMiBBurst, c.Rate.AdminFactor = 10, 10, 1
	})
	big := noisePNG(t, 1500, 1500) // about 6.5 MiB: the budget holds one
	if len(big) < 6<<20 || len(big) > 7<<20 {
		t.Fatalf("test image is %d bytes, want 6..7 MiB", len(big))
	}
	t.Run("multipart", func(t *testing.T) {
		alice := ts.newUser("alice")
		send := func(chunked bool) *http.Response {
			body, ct := multipartBody(t, nil, filePart{"noise.png", big})
			return ts.send("POST", "/api/v1/images", alice, body, chunked, map[string]string{"Content-Type": ct})
		}
		ts.spendBudget(t, send)
	})
	t.Run("tus", func(t *testing.T) {
		bob := ts.newUser("bob")
		send := func(chunked bool) *http.Response {
			loc := ts.tusCreate(t, bob, len(big))
			return ts.send("PATCH", loc, bob, bytes.NewReader(big), chunked, map[string]string{
				"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
		}
		ts.spendBudget(t, send)
	})
}

// spendBudget sends one chunked upload (accepted), a second (refused when
// its bytes exceed what is left) and then a sized one (refused at once).
func (ts *testServer) spendBudget(t *testing.T, send func(chunked bool) *http.Response) {
	t.Helper()
	resp := send(true)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("first chunked upload: %d, want 2xx", resp.StatusCode)
	}
	for i, chunked := range []bool{true, false} {
		resp := send(chunked)
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || errorCode(t, resp) != "rate_limited" {
			t.Fatalf("upload %d after the budget was spent (chunked %v): %d, Retry-After %q", i+2, chunked,
				resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
}

// send sends body to path, chunked (no Content-Length) or sized.
func (ts *testServer) send(method, path, token string, body io.Reader, chunked bool, hdr map[string]string) *http.Response {
	ts.t.Helper()
	if chunked {
		body = struct{ io.Reader }{body} // hides the length: Transfer-Encoding: chunked
	}
	resp := ts.do(method, path, token, body, hdr)
	if chunked != (resp.Request.ContentLength <= 0) {
		ts.t.Fatalf("request sent with Content-Length %d, chunked %v", resp.Request.ContentLength, chunked)
	}
	return resp
}

// tusCreate creates a tus upload of length bytes and returns its path.
func (ts *testServer) tusCreate(t *testing.T, token string, length int) string {
	t.Helper()
	resp := ts.do("POST", "/api/v1/uploads/", token, nil, map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": strconv.Itoa(length)})
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 201 || err != nil {
		t.Fatalf("tus create: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Path
}

// noisePNG is a w×h PNG of seeded noise: it barely compresses.
func noisePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(rnd.Uint32()), uint8(rnd.Uint32()), uint8(rnd.Uint32()), 255
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
