package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
)

func TestCORS(t *testing.T) {
	h := withCORS([]string{"https://app.example"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(299)
	}))
	pre := httptest.NewRequest("OPTIONS", "/api/v1/uploads/", nil)
	pre.Header.Set("Origin", "https://app.example")
	pre.Header.Set("Access-Control-Request-Method", "PATCH")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, pre)
	if w.Code != 204 || !strings.Contains(w.Header().Get("Access-Control-Allow-Headers"), "Upload-Offset") ||
		!strings.Contains(w.Header().Get("Access-Control-Expose-Headers"), "Location") {
		t.Fatalf("preflight: %d %v", w.Code, w.Header())
	}
	// A tus OPTIONS without preflight headers reaches the handler.
	tus := httptest.NewRequest("OPTIONS", "/api/v1/uploads/", nil)
	tus.Header.Set("Origin", "https://app.example")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, tus)
	if w.Code != 299 || w.Header().Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("plain OPTIONS: %d %v", w.Code, w.Header())
	}
	other := httptest.NewRequest("GET", "/", nil)
	other.Header.Set("Origin", "https://evil.example")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, other)
	if w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("foreign origin allowed")
	}
}

func TestWriteError(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, c := range []struct {
		err    error
		status int
		code   string
		msg    string
	}{
		{imgmgr.Errorf(imgmgr.KindUnsupportedMedia, "unsupported_media_type", "nope"), 415, "unsupported_media_type", "nope"},
		{errors.New("db exploded at 10.0.0.3"), 500, "internal", "internal error"},
		{imgmgr.Internal("op", errors.New("secret detail")), 500, "internal", "internal error"},
		{&imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "busy", Message: "busy", RetryAfter: 1500 * time.Millisecond}, 503, "busy", "busy"},
		{imgmgr.Errorf(imgmgr.KindChecksumMismatch, "checksum_mismatch", "bad"), 460, "checksum_mismatch", "bad"},
	} {
		w := httptest.NewRecorder()
		WriteError(w, httptest.NewRequest("GET", "/", nil), log, c.err)
		var body ErrorBody
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if w.Code != c.status || body.Error.Code != c.code || body.Error.Message != c.msg {
			t.Errorf("%v: %d %+v", c.err, w.Code, body)
		}
		if c.status == 503 && w.Header().Get("Retry-After") != "2" {
			t.Errorf("Retry-After = %q, want 2", w.Header().Get("Retry-After"))
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	var v struct{ A int }
	for body, want := range map[string]string{"": "invalid_json", "{": "invalid_json", `{"A":"x"}`: "invalid_json",
		`{"B":1}`: "invalid_json", `{"A":1} {}`: "invalid_json"} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		if err := decodeJSON(r, &v); imgmgr.CodeOf(err) != want {
			t.Errorf("%q: %v", body, err)
		}
	}
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"A":1}`))
	r.Header.Set("Content-Type", "text/plain")
	if err := decodeJSON(r, &v); imgmgr.KindOf(err) != imgmgr.KindUnsupportedMedia {
		t.Errorf("text/plain: %v", err)
	}
}
