package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression (issue 10, item 7): a negotiated variant set "Vary: Accept"
// with Header().Set, dropping the "Vary: Origin" the CORS middleware had
// added, so a shared cache could replay one origin's
// Access-Control-Allow-Origin to another. Both must be there, on a miss,
// a hit and a 304.
func TestNegotiatedVariantKeepsVaryOrigin(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Server.CORSOrigins = []string{"https://app.example"} })
	_, out := ts.upload(ts.token, map[string]string{"visibility": "public"}, filePart{"p.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	id := out.Results[0].Image.ID
	var signed struct{ URLs []string }
	ts.doJSON("POST", "/api/v1/images/"+id+"/urls", ts.token, map[string]any{"variants": []string{"rs:fit:120:0"}}, 200, &signed)
	url := signed.URLs[0]
	if !strings.HasSuffix(url, "/"+id) {
		t.Fatalf("want a negotiated URL (no extension): %s", url)
	}
	hdr := map[string]string{"Origin": "https://app.example", "Accept": "image/webp,*/*"}
	var etag string
	for _, step := range []string{"miss", "hit", "not modified"} {
		if etag != "" {
			hdr["If-None-Match"] = etag
		}
		resp := ts.do("GET", url, "", nil, hdr)
		resp.Body.Close()
		want := http.StatusOK
		if etag != "" {
			want = http.StatusNotModified
		}
		if resp.StatusCode != want {
			t.Fatalf("%s: status %d, want %d", step, resp.StatusCode, want)
		}
		checkVary(t, step, resp.Header, "Origin", "Accept")
		if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
			t.Fatalf("%s: Access-Control-Allow-Origin = %q", step, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		if step == "hit" {
			etag = resp.Header.Get("ETag")
		}
	}
}

// checkVary fails unless the Vary header lines name each field exactly once.
func checkVary(t *testing.T, step string, h http.Header, fields ...string) {
	t.Helper()
	count := map[string]int{}
	for _, line := range h.Values("Vary") {
		for _, f := range strings.Split(line, ",") {
			count[strings.ToLower(strings.TrimSpace(f))]++
		}
	}
	for _, f := range fields {
		if count[strings.ToLower(f)] != 1 {
			t.Fatalf("%s: Vary %q must name %s once", step, h.Values("Vary"), f)
		}
	}
}
