package main

import (
	"fmt"
	"io"
	"mime"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression: http.ServeContent wrote its own refusals on the original
// endpoint: a 416 as text/plain ("invalid range: failed to overlap") and a
// 412 with an empty body under Content-Type image/jpeg. Every error of the
// API must be the JSON error body; the 416 keeps its Content-Range.
func TestOriginalRefusalsAreJSON(t *testing.T) {
	ts := startServer(t)
	data := testenv.ReadImage(t, "photo/concert.jpg")
	_, out := ts.upload(ts.token, nil, filePart{"a.jpg", data})
	path := "/api/v1/images/" + out.Results[0].Image.ID + "/original"
	for _, c := range []struct {
		name   string
		hdr    map[string]string
		status int
		code   string
	}{
		{"range past the end", map[string]string{"Range": "bytes=99999999-"}, 416, "range_not_satisfiable"},
		{"If-Match another ETag", map[string]string{"If-Match": `"nope"`}, 412, "precondition_failed"},
	} {
		resp := ts.do("GET", path, ts.token, nil, c.hdr)
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %q, want %d JSON", c.name, resp.StatusCode, resp.Header.Get("Content-Type"), c.status)
			resp.Body.Close()
			continue
		}
		if resp.Header.Get("Content-Disposition") != "" {
			t.Errorf("%s: an error names a download: %q", c.name, resp.Header.Get("Content-Disposition"))
		}
		if c.status == 416 && resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(data)) {
			t.Errorf("416 Content-Range = %q", resp.Header.Get("Content-Range"))
		}
		if code := errorCode(t, resp); code != c.code {
			t.Errorf("%s: code %q, want %q", c.name, code, c.code)
		}
	}
	resp := ts.do("GET", path, ts.token, nil, map[string]string{"If-Match": `"` + sha(data) + `"`, "Range": "bytes=0-9"})
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 206 || string(b) != string(data[:10]) {
		t.Fatalf("If-Match the ETag with a range: %d, %d bytes", resp.StatusCode, len(b))
	}
}

// Regression: Content-Disposition carried the filename percent-encoded
// inside a plain filename="..." parameter, so a browser saved
// "grizzly b\u00e4r.jpg" as "grizzly%20b%C3%A4r.jpg". Non-ASCII names need the
// RFC 6266 filename* form, and quotes must not break the header.
func TestOriginalDownloadName(t *testing.T) {
	ts := startServer(t)
	data := testenv.ReadImage(t, "photo/concert.jpg")
	for _, name := range []string{"plain.jpg", "grizzly bär.jpg", `say "cheese".jpg`} {
		_, out := ts.upload(ts.token, nil, filePart{name, data})
		resp := ts.do("GET", "/api/v1/images/"+out.Results[0].Image.ID+"/original", ts.token, nil, nil)
		resp.Body.Close()
		cd := resp.Header.Get("Content-Disposition")
		disp, params, err := mime.ParseMediaType(cd)
		if err != nil || disp != "inline" || params["filename"] != name {
			t.Errorf("upload %q: Content-Disposition %q parses to %q %q (%v)", name, cd, disp, params["filename"], err)
		}
	}
}
