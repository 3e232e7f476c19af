// Package web serves the built web UI (Vue 3 + TypeScript, built by Vite
// into dist/) from the binary.
//
// Files under /assets/ carry a content hash in their names and are served
// as immutable for a year. Other files are served with revalidation. Any
// other GET that is not a file and not a server route (/api/, /img/,
// /healthz, /readyz, /metrics) is an app route and gets index.html, so the
// client-side router can take over. When the UI was not built (a clean
// clone has only dist/.gitkeep), every app route gets a short page saying
// how to build it.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// Handler returns the handler for the embedded UI. Mount it on "/" after
// the API routes.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil { // cannot happen: "dist" is a valid embedded directory
		panic(err)
	}
	return newHandler(sub)
}

// serverPrefixes are paths the UI never answers with index.html: a missing
// API route must be a 404, not an HTML page.
var serverPrefixes = []string{"/api/", "/img/"}

var serverPaths = map[string]bool{"/api": true, "/img": true, "/healthz": true, "/readyz": true, "/metrics": true}

const immutable = "public, max-age=31536000, immutable"

type handler struct {
	files fs.FS
	index []byte // nil when the UI was not built
	etag  string // of index
}

func newHandler(files fs.FS) *handler {
	h := &handler{files: files}
	if b, err := fs.ReadFile(files, "index.html"); err == nil {
		sum := sha256.Sum256(b)
		h.index, h.etag = b, `"`+hex.EncodeToString(sum[:8])+`"`
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if isServerPath(p) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if p != "/" && p != "/index.html" && h.serveFile(w, r, strings.TrimPrefix(p, "/")) {
		return
	}
	if p == "/assets" || strings.HasPrefix(p, "/assets/") || (p != "/index.html" && strings.Contains(path.Base(p), ".")) {
		// A missing hashed asset or file: HTML in its place would be
		// cached or parsed as the wrong type.
		http.NotFound(w, r)
		return
	}
	h.serveIndex(w, r)
}

func isServerPath(p string) bool {
	if serverPaths[p] {
		return true
	}
	for _, pre := range serverPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// serveFile serves name when it is a regular file and reports whether it did.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name string) bool {
	f, err := h.files.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		return false
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return false
	}
	if strings.HasPrefix(name, "assets/") {
		w.Header().Set("Cache-Control", immutable)
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, name, st.ModTime(), rs)
	return true
}

func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	if h.index == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		if r.Method == http.MethodGet {
			_, _ = w.Write([]byte(notBuiltPage))
		}
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("ETag", h.etag)
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(h.index))
}

const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>imgmgr: web UI not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>The web UI was not built</h1>
<p>This imgmgr binary was built without the web UI. Run <code>make build</code> (it runs
<code>npm ci &amp;&amp; npm run build</code> in <code>web/</code> before <code>go build</code>) and start it again.</p>
<p>The API is available under <code>/api/v1/</code>.</p>
</body></html>
`
