package main

import (
	"bytes"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// eicar is the anti-malware test string (split so this file is not itself flagged).
var eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + `EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// withComment puts text in a JPEG comment segment right after SOI: the
// image still decodes.
func withComment(jpeg []byte, text string) []byte {
	n := len(text) + 2
	seg := append([]byte{0xFF, 0xFE, byte(n >> 8), byte(n)}, text...)
	return append(append(append([]byte{}, jpeg[:2]...), seg...), jpeg[2:]...)
}

func TestClamdScanning(t *testing.T) {
	addr := testenv.ClamdAddress(t)
	ts := startServer(t, func(c *config.Config) { c.Scan.ClamdAddress = addr })
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	for _, c := range []struct {
		name string
		data []byte
	}{{"eicar in a jpeg comment", withComment(photo, eicar)}, {"eicar alone", []byte(eicar)}} {
		status, out := ts.upload(ts.token, nil, filePart{"x.jpg", c.data})
		want, code := 422, "malware_detected"
		if c.name == "eicar alone" {
			want, code = 415, "unsupported_media_type" // refused by type before any scan
		}
		if status != want || out.Error == nil || out.Error.Code != code {
			t.Fatalf("%s: %d %+v", c.name, status, out.Error)
		}
		if code == "malware_detected" && !strings.Contains(out.Error.Message, "EICAR") {
			t.Fatalf("the answer does not name the signature: %q", out.Error.Message)
		}
		if st := ts.state(); st != (state{}) {
			t.Fatalf("%s left %+v", c.name, st)
		}
	}
	if status, _ := ts.upload(ts.token, nil, filePart{"ok.jpg", photo}); status != 201 {
		t.Fatalf("clean file: %d", status)
	}
	var ready map[string]string
	ts.doJSON("GET", "/readyz", "", nil, 200, &ready)
	if ready["scanner"] != "ok" {
		t.Fatalf("readyz = %v", ready)
	}
}

func TestScannerDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "tcp://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	closed := startServer(t, func(c *config.Config) { c.Scan.ClamdAddress = dead })
	body, ct := multipartBody(t, nil, filePart{"a.jpg", photo})
	resp := closed.do("POST", "/api/v1/images", closed.token, body, map[string]string{"Content-Type": ct})
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || errorCode(t, resp) != "scanner_unavailable" {
		t.Fatalf("fail-closed: %d %v", resp.StatusCode, resp.Header)
	}
	if st := closed.state(); st != (state{}) {
		t.Fatalf("left %+v", st)
	}
	open := startServer(t, func(c *config.Config) { c.Scan.ClamdAddress = dead; c.Scan.FailOpen = true })
	if status, _ := open.upload(open.token, nil, filePart{"a.jpg", photo}); status != 201 {
		t.Fatalf("fail-open: %d", status)
	}
}

func TestRateLimits(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Rate.LoginPerMinute, c.Rate.LoginBurst = 60, 8
		c.Rate.APIPerMinute, c.Rate.APIBurst = 1, 5
		c.Rate.AdminFactor = 1
		c.Rate.LockoutFree = 2
	})
	// The login in startServer took one token; five requests remain.
	for i := range 5 {
		resp := ts.do("GET", "/api/v1/me", ts.token, nil, nil)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("RateLimit-Limit") != "5" {
			t.Fatalf("request %d: %d %v", i, resp.StatusCode, resp.Header)
		}
	}
	resp := ts.do("GET", "/api/v1/me", ts.token, nil, nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("RateLimit-Remaining") != "0" || errorCode(t, resp) != "rate_limited" {
		t.Fatalf("over the limit: %d %v", resp.StatusCode, resp.Header)
	}
	// Failed logins lock out the username from this address with a growing delay.
	codes := []string{}
	for range 4 {
		resp := ts.do("POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"admin","password":"guess-guess"}`), nil)
		codes = append(codes, errorCode(t, resp))
	}
	if strings.Join(codes, ",") != "invalid_credentials,invalid_credentials,invalid_credentials,login_locked" {
		t.Fatalf("login answers: %v", codes)
	}
	resp = ts.do("POST", "/api/v1/auth/login", "", strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`), nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("the right password during a lockout: %d", resp.StatusCode)
	}
	resp.Body.Close()
	// The login bucket per IP runs out too.
	var last *http.Response
	for range 5 {
		last = ts.do("POST", "/api/v1/auth/login", "", bytes.NewReader([]byte(`{"username":"x","password":"y"}`)), nil)
		last.Body.Close()
	}
	if last.StatusCode != 429 {
		t.Fatalf("login flood: %d", last.StatusCode)
	}
}

// TestUploadLimits: upload requests with a body take upload tokens; a
// bodiless tus creation does not.
func TestUploadLimits(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Rate.UploadsPerMinute, c.Rate.UploadsBurst, c.Rate.AdminFactor = 1, 1, 1
	})
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	if status, _ := ts.upload(ts.token, nil, filePart{"a.jpg", photo}); status != 201 {
		t.Fatalf("first upload: %d", status)
	}
	for range 3 { // creations without a body are free
		resp := ts.do("POST", "/api/v1/uploads/", ts.token, nil, map[string]string{"Tus-Resumable": "1.0.0", "Upload-Length": "10"})
		resp.Body.Close()
		if resp.StatusCode != 201 {
			t.Fatalf("tus creation: %d", resp.StatusCode)
		}
	}
	status, out := ts.upload(ts.token, nil, filePart{"b.jpg", photo})
	if status != 429 || out.Error == nil || out.Error.Code != "rate_limited" {
		t.Fatalf("second upload: %d %+v", status, out.Error)
	}
}
