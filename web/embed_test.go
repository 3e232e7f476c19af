package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func builtFS() fstest.MapFS {
	return fstest.MapFS{
		"index.html":              {Data: []byte("<!doctype html><title>imgmgr</title><div id=app></div>")},
		"assets/index-3f9a1c.js":  {Data: []byte("console.log(1)")},
		"assets/index-77aa01.css": {Data: []byte("body{}")},
		"favicon.svg":             {Data: []byte("<svg xmlns='http://www.w3.org/2000/svg'/>")},
		".gitkeep":                {Data: nil},
	}
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerBuilt(t *testing.T) {
	t.Parallel()
	h := newHandler(builtFS())
	const index = "<div id=app>"
	tests := []struct {
		name, method, path string
		status             int
		cache              string // expected Cache-Control, "" = not checked
		body               string // substring of the body, "" = not checked
		ctype              string // prefix of Content-Type, "" = not checked
	}{
		{"root is index", "GET", "/", 200, "no-cache", index, "text/html"},
		{"index.html", "GET", "/index.html", 200, "no-cache", index, "text/html"},
		{"hashed js immutable", "GET", "/assets/index-3f9a1c.js", 200, immutable, "console.log", "text/javascript"},
		{"hashed css immutable", "GET", "/assets/index-77aa01.css", 200, immutable, "body{}", "text/css"},
		{"other file revalidated", "GET", "/favicon.svg", 200, "no-cache", "<svg", "image/svg+xml"},
		{"app route falls back", "GET", "/images/01HZX3", 200, "no-cache", index, "text/html"},
		{"nested app route", "GET", "/admin/users", 200, "no-cache", index, "text/html"},
		{"head app route", "HEAD", "/login", 200, "no-cache", "", "text/html"},
		{"missing asset is 404", "GET", "/assets/index-000000.js", 404, "", "", ""},
		{"missing file with extension is 404", "GET", "/robots.txt", 404, "", "", ""},
		{"api is not the UI", "GET", "/api/v1/nope", 404, "", "", ""},
		{"bare api is not the UI", "GET", "/api", 404, "", "", ""},
		{"img is not the UI", "GET", "/img/sig/rs:fit:10:10/abc", 404, "", "", ""},
		{"healthz", "GET", "/healthz", 404, "", "", ""},
		{"readyz", "GET", "/readyz", 404, "", "", ""},
		{"metrics", "GET", "/metrics", 404, "", "", ""},
		{"dot-dot cleaned to api", "GET", "/x/../api/v1/images", 404, "", "", ""},
		{"assets dir is not listed", "GET", "/assets/", 404, "", "", ""},
		{"post refused", "POST", "/", 405, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := get(t, h, tt.method, tt.path, nil)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d (body %q)", w.Code, tt.status, w.Body.String())
			}
			if tt.cache != "" && w.Header().Get("Cache-Control") != tt.cache {
				t.Errorf("Cache-Control = %q, want %q", w.Header().Get("Cache-Control"), tt.cache)
			}
			if tt.body != "" && !strings.Contains(w.Body.String(), tt.body) {
				t.Errorf("body %q does not contain %q", w.Body.String(), tt.body)
			}
			if tt.ctype != "" && !strings.HasPrefix(w.Header().Get("Content-Type"), tt.ctype) {
				t.Errorf("Content-Type = %q, want prefix %q", w.Header().Get("Content-Type"), tt.ctype)
			}
			if tt.status == 200 && tt.body == index && strings.Contains(w.Body.String(), "not built") {
				t.Errorf("built UI served the not-built page")
			}
		})
	}
}

func TestHandlerIndexRevalidates(t *testing.T) {
	t.Parallel()
	h := newHandler(builtFS())
	first := get(t, h, "GET", "/gallery", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("index has no ETag")
	}
	again := get(t, h, "GET", "/gallery", map[string]string{"If-None-Match": etag})
	if again.Code != http.StatusNotModified {
		t.Fatalf("status with matching ETag = %d, want 304", again.Code)
	}
}

func TestHandlerNotBuilt(t *testing.T) {
	t.Parallel()
	h := newHandler(fstest.MapFS{".gitkeep": {Data: nil}})
	for _, p := range []string{"/", "/images/abc", "/login"} {
		w := get(t, h, "GET", p, nil)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("%s: status = %d, want 503", p, w.Code)
		}
		if !strings.Contains(w.Body.String(), "make build") {
			t.Errorf("%s: body does not say how to build the UI: %q", p, w.Body.String())
		}
	}
	if w := get(t, h, "GET", "/api/v1/images", nil); w.Code != http.StatusNotFound {
		t.Errorf("api path: status = %d, want 404", w.Code)
	}
}

// The embedded tree must at least hold dist/.gitkeep so a clean clone builds.
func TestEmbeddedHandler(t *testing.T) {
	t.Parallel()
	w := get(t, Handler(), "GET", "/", nil)
	if w.Code != http.StatusOK && w.Code != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 200 (built) or 503 (not built)", w.Code)
	}
}
