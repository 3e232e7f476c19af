package main

import (
	"bytes"
	"encoding/base64"
	"mime"
	"net/url"
	"strconv"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression (issue 10, item 12): bidi and other format characters (Cf)
// were kept in file names and titles, so "photo\u202Egpj.exe" was stored
// and served in Content-Disposition as is, shown as "photoexe.jpg". They
// are removed from names and titles taken by multipart, tus metadata and
// PATCH of an image (and album names).
func TestFormatCharactersLeaveNamesAndTitles(t *testing.T) {
	ts := startServer(t)
	data := testenv.ReadImage(t, "photo/concert.jpg")
	const hostile, clean = "photo\u202Egpj\u200B\u2066.exe\uFEFF", "photogpj.exe"
	const title, cleanTitle = "\u202Bsea\u200F side\u2069", "sea side"

	_, out := ts.upload(ts.token, map[string]string{"title": title}, filePart{hostile, data})
	if out.Results[0].Filename != clean {
		t.Errorf("multipart result filename %q, want %q", out.Results[0].Filename, clean)
	}
	ts.checkNames(t, "multipart", out.Results[0].Image.ID, clean, cleanTitle)

	id := ts.tusUpload(t, data, "filename "+b64(hostile)+",title "+b64(title))
	ts.checkNames(t, "tus", id, clean, cleanTitle)

	ts.doJSON("PATCH", "/api/v1/images/"+id, ts.token, map[string]any{"title": "\u202Enew\u200E title"}, 200, nil)
	ts.checkNames(t, "PATCH", id, clean, "new title")

	var album struct{ Name string }
	ts.doJSON("POST", "/api/v1/albums", ts.token, map[string]string{"name": "\u202Etrip"}, 201, &album)
	if album.Name != "trip" {
		t.Errorf("album name %q, want %q", album.Name, "trip")
	}
}

// checkNames fails unless image id has the filename and title, both in its
// details and in the original's Content-Disposition.
func (ts *testServer) checkNames(t *testing.T, via, id, filename, title string) {
	t.Helper()
	var im struct{ Filename, Title string }
	ts.doJSON("GET", "/api/v1/images/"+id, ts.token, nil, 200, &im)
	if im.Filename != filename || im.Title != title {
		t.Errorf("%s: stored filename %q title %q, want %q %q", via, im.Filename, im.Title, filename, title)
	}
	resp := ts.do("GET", "/api/v1/images/"+id+"/original", ts.token, nil, nil)
	resp.Body.Close()
	_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
	if err != nil || params["filename"] != filename {
		t.Errorf("%s: Content-Disposition %q, want filename %q", via, resp.Header.Get("Content-Disposition"), filename)
	}
}

// tusUpload creates a tus upload with the raw Upload-Metadata, sends data in
// one PATCH and returns the image id.
func (ts *testServer) tusUpload(t *testing.T, data []byte, metadata string) string {
	t.Helper()
	resp := ts.do("POST", "/api/v1/uploads/", ts.token, nil, map[string]string{
		"Tus-Resumable": "1.0.0", "Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": metadata})
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 201 || err != nil {
		t.Fatalf("tus create: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = ts.do("PATCH", loc.Path, ts.token, bytes.NewReader(data), map[string]string{
		"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Upload-Image-Id") == "" {
		t.Fatalf("tus PATCH: %d", resp.StatusCode)
	}
	return resp.Header.Get("Upload-Image-Id")
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
