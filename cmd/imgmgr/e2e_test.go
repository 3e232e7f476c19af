package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/config"
)

// testServer is the real server on a temp data dir.
type testServer struct {
	t     *testing.T
	app   *app
	srv   *httptest.Server
	dir   string
	token string // admin access token
}

const adminPassword = "correct-horse-battery"

func startServer(t *testing.T, mutate ...func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Server.DataDir = t.TempDir()
	for _, m := range mutate {
		m(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := build(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.auth.Bootstrap(ctx, "admin", adminPassword); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{t: t, app: a, srv: httptest.NewServer(a.handler), dir: cfg.Server.DataDir}
	t.Cleanup(func() { ts.srv.Close(); a.close() })
	ts.token = ts.login("admin", adminPassword)
	return ts
}

func (ts *testServer) login(user, pw string) string {
	ts.t.Helper()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	ts.doJSON("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": pw}, 200, &out)
	return out.AccessToken
}

// newUser creates a user and returns its access token.
func (ts *testServer) newUser(name string) string {
	ts.t.Helper()
	ts.doJSON("POST", "/api/v1/users", ts.token, map[string]string{"username": name, "password": "password-of-" + name}, 201, nil)
	return ts.login(name, "password-of-"+name)
}

func (ts *testServer) do(method, path, token string, body io.Reader, hdr map[string]string) *http.Response {
	ts.t.Helper()
	req, err := http.NewRequest(method, ts.srv.URL+path, body)
	if err != nil {
		ts.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := ts.srv.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	return resp
}

// doJSON sends v as JSON, checks the status and decodes the answer into out.
func (ts *testServer) doJSON(method, path, token string, v any, want int, out any) {
	ts.t.Helper()
	var body io.Reader
	if v != nil {
		b, _ := json.Marshal(v)
		body = bytes.NewReader(b)
	}
	resp := ts.do(method, path, token, body, map[string]string{"Content-Type": "application/json"})
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		ts.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			ts.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

type filePart struct {
	name string
	data []byte
}

func multipartBody(t *testing.T, fields map[string]string, files ...filePart) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile("file", f.name)
		w.Write(f.data)
	}
	mw.Close()
	return &buf, mw.FormDataContentType()
}

type uploadResp struct {
	Results []struct {
		Filename string `json:"filename"`
		Status   string `json:"status"`
		Image    *struct {
			ID     string `json:"id"`
			SHA256 string `json:"sha256"`
			Width  int    `json:"width"`
			Height int    `json:"height"`
			Format string `json:"format"`
			Size   int64  `json:"size"`
		} `json:"image"`
		Error *struct{ Code string } `json:"error"`
	} `json:"results"`
	Error *struct{ Code, Message string } `json:"error"`
}

func (ts *testServer) upload(token string, fields map[string]string, files ...filePart) (int, uploadResp) {
	ts.t.Helper()
	body, ct := multipartBody(ts.t, fields, files...)
	resp := ts.do("POST", "/api/v1/images", token, body, map[string]string{"Content-Type": ct})
	defer resp.Body.Close()
	var out uploadResp
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		ts.t.Fatalf("upload answer not JSON (%d): %s", resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

// state counts what a failure must not leave: image rows, blob files,
// temp files.
type state struct{ rows, blobs, temps int }

func (ts *testServer) state() state {
	ts.t.Helper()
	n, _, err := ts.app.meta.ImageStats(context.Background(), "")
	if err != nil {
		ts.t.Fatal(err)
	}
	return state{rows: n, blobs: countFiles(ts.t, filepath.Join(ts.dir, "blobs", "orig")),
		temps: countFiles(ts.t, filepath.Join(ts.dir, "tmp")) + countFiles(ts.t, filepath.Join(ts.dir, "blobs", "tmp"))}
}

func countFiles(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func errorCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var e struct {
		Error struct{ Code, Message string }
	}
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("error body is not {\"error\":{...}}: %s", b)
	}
	if strings.Contains(strings.ToLower(e.Error.Message), "goroutine") {
		t.Fatalf("error leaks internals: %s", b)
	}
	return e.Error.Code
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
