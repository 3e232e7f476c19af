package main

import (
	"bytes"
	"io"
	"testing"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/privacy"
)

// TestLocationOnlyForTheOwner: the owner gets the untouched original and
// the location; an admin and the public get a copy without location tags
// and camera fields only.
func TestLocationOnlyForTheOwner(t *testing.T) {
	ts := startServer(t, func(c *config.Config) { c.Delivery.PublicOriginals = true })
	alice := ts.newUser("alice")
	gps := testenv.ReadImage(t, "metadata/GPS.jpg")
	_, out := ts.upload(alice, map[string]string{"visibility": "public"}, filePart{"gps.jpg", gps})
	id := out.Results[0].Image.ID
	_, priv := ts.upload(alice, nil, filePart{"gps2.jpg", withComment(gps, "private copy")})
	privID := priv.Results[0].Image.ID

	get := func(token string) (int, []byte) {
		resp := ts.do("GET", "/api/v1/images/"+id+"/original", token, nil, nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, b := get(alice); status != 200 || !bytes.Equal(b, gps) {
		t.Fatalf("owner: %d, identical %v", status, bytes.Equal(b, gps))
	}
	for name, token := range map[string]string{"admin": ts.token, "anonymous": ""} {
		status, b := get(token)
		if status != 200 || len(b) != len(gps) || bytes.Equal(b, gps) {
			t.Fatalf("%s: %d, %d bytes (lossless edits keep the length)", name, status, len(b))
		}
		md, err := privacy.Read("jpeg", bytes.NewReader(b))
		if err != nil || md.Location != nil {
			t.Fatalf("%s: the copy still has a location: %+v %v", name, md.Location, err)
		}
	}
	resp := ts.do("GET", "/api/v1/images/"+privID+"/original", "", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("anonymous on a private image: %d", resp.StatusCode)
	}
	type details struct {
		Camera   *struct{ Make, Model string }
		Location *struct{ Latitude float64 }
	}
	var mine, admins details
	ts.doJSON("GET", "/api/v1/images/"+id, alice, nil, 200, &mine)
	ts.doJSON("GET", "/api/v1/images/"+id, ts.token, nil, 200, &admins)
	if mine.Location == nil || mine.Location.Latitude < 54 || mine.Location.Latitude > 56 {
		t.Fatalf("owner's metadata lacks the location: %+v", mine.Location)
	}
	if admins.Location != nil {
		t.Fatalf("admin sees the location: %+v", admins.Location)
	}
	if mine.Camera == nil || admins.Camera == nil || admins.Camera.Make == "" {
		t.Fatalf("camera fields missing: %+v %+v", mine.Camera, admins.Camera)
	}
	bob := ts.newUser("bob")
	ts.doJSON("GET", "/api/v1/images/"+id, bob, nil, 404, nil)
	ts.doJSON("DELETE", "/api/v1/images/"+id, alice, nil, 204, nil)
	if n := countFiles(t, ts.dir+"/blobs/pub"); n != 0 {
		t.Fatalf("%d location-free copies left after the delete", n)
	}
}

func TestSVGPolicy(t *testing.T) {
	svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80" onload="alert(1)">` +
		`<script>alert(document.cookie)</script><rect width="10" height="10" fill="red"/>` +
		`<image href="https://evil.example/x.png"/></svg>`)
	off := startServer(t)
	if status, out := off.upload(off.token, nil, filePart{"a.svg", svg}); status != 415 || out.Error.Code != "svg_not_allowed" {
		t.Fatalf("SVG off: %d %+v", status, out.Error)
	}
	on := startServer(t, func(c *config.Config) { c.Upload.AllowSVG = true })
	status, out := on.upload(on.token, nil, filePart{"a.svg", svg})
	if status != 201 || out.Results[0].Image.Format != "svg" || out.Results[0].Image.Width != 120 {
		t.Fatalf("SVG on: %d %+v", status, out)
	}
	resp := on.do("GET", "/api/v1/images/"+out.Results[0].Image.ID+"/original", on.token, nil, nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, bad := range []string{"<script", "onload", "evil.example"} {
		if bytes.Contains(b, []byte(bad)) {
			t.Fatalf("sanitised SVG still has %q: %s", bad, b)
		}
	}
	if resp.Header.Get("Content-Type") != "image/svg+xml" || resp.Header.Get("Content-Security-Policy") != "default-src 'none'; style-src 'unsafe-inline'; sandbox" {
		t.Fatalf("SVG headers: %v", resp.Header)
	}
	if !bytes.Contains(b, []byte("<rect")) {
		t.Fatalf("the drawing was lost: %s", b)
	}
}
