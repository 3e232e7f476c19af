// Package akamaitest is a test server that answers as Akamai's Fast Purge
// API v3 is documented to: it checks the method, path (action, object type,
// network), content type, the EdgeGrid Authorization (recomputed here from
// the credentials, with a fresh timestamp and an unused nonce), the 50,000
// byte body limit (413), and the account's token buckets for requests,
// URLs and tags (429 with the X-Ratelimit-* headers; tokens are not
// consumed by a refused request). Accepted purges answer 201 with
// purgeId, estimatedSeconds and supportId. Under /edge/ it answers GETs as
// the CDN edge.
package akamaitest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imgmgr/imgmgr/cdn/cdntest"
)

// Options of the server; zero values are Akamai's documented limits.
type Options struct {
	ClientToken, ClientSecret, AccessToken string // defaults ct-1, secret-1, at-1
	EstimatedSeconds                       int    // default 5
	// Scale multiplies every refill rate (tests of long runs); default 1.
	Scale float64
}

// Server is the stand-in for the Fast Purge API.
type Server struct {
	cdntest.Record
	*httptest.Server
	opt              Options
	reqs, urls, tags *cdntest.Bucket
	mu               sync.Mutex
	nonces           map[string]bool
	ids              atomic.Int64
}

// New starts a server; Close it when done.
func New(opt Options) *Server {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&opt.ClientToken, "ct-1")
	def(&opt.ClientSecret, "secret-1")
	def(&opt.AccessToken, "at-1")
	if opt.EstimatedSeconds == 0 {
		opt.EstimatedSeconds = 5
	}
	if opt.Scale == 0 {
		opt.Scale = 1
	}
	s := &Server{opt: opt, nonces: map[string]bool{},
		reqs: cdntest.NewBucket(100, 50*opt.Scale), urls: cdntest.NewBucket(10000, 200*opt.Scale),
		tags: cdntest.NewBucket(5000, 500.0/60*opt.Scale)}
	mux := http.NewServeMux()
	mux.HandleFunc("/ccu/v3/{action}/{type}/{network}", s.purge)
	s.Server = httptest.NewServer(mux)
	mux.Handle("/edge/", s.Edge(s.Server.URL))
	return s
}

// EdgeURL is the public base URL served as the edge.
func (s *Server) EdgeURL() string { return s.URL + "/edge" }

// Complete does nothing: Fast Purge tasks end after their estimate.
func (s *Server) Complete() {}

func (s *Server) problem(w http.ResponseWriter, status int, title, detail string, hdr map[string]string) {
	if status != http.StatusTooManyRequests {
		s.Refuse()
	} else {
		s.Limit()
	}
	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"httpStatus": status, "title": title, "detail": detail,
		"supportId": fmt.Sprintf("17PY%d", s.ids.Add(1))})
}

func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	throttled := s.Request()
	action, typ, network := r.PathValue("action"), r.PathValue("type"), r.PathValue("network")
	switch {
	case r.Method != http.MethodPost:
		s.problem(w, 405, "Method not allowed", r.Method, nil)
		return
	case (action != "invalidate" && action != "delete") || (typ != "url" && typ != "tag" && typ != "cpcode") ||
		(network != "production" && network != "staging"):
		s.problem(w, 404, "Not found", r.URL.Path, nil)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		s.problem(w, 400, "Bad request", "unreadable body", nil)
		return
	}
	if msg := s.verify(r, body); msg != "" {
		s.problem(w, 401, "Unauthorized", msg, nil)
		return
	}
	if len(body) > 50000 {
		s.problem(w, 413, "Request entity too large", "the body exceeds 50,000 bytes", nil)
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.problem(w, 415, "Unsupported media type", "use application/json", nil)
		return
	}
	var req struct{ Objects []string }
	if json.Unmarshal(body, &req) != nil || len(req.Objects) == 0 {
		s.problem(w, 400, "Bad request", "objects must be a non-empty list", nil)
		return
	}
	if typ == "url" && !allURLs(req.Objects) {
		s.problem(w, 400, "Bad request", "objects must be URLs", nil)
		return
	}
	if !s.admit(w, throttled, typ, len(req.Objects)) {
		return
	}
	s.accept(w, typ, req.Objects)
}

// admit takes the request's tokens or answers 429 with the headers of
// Akamai's rate limit answers.
func (s *Server) admit(w http.ResponseWriter, throttled bool, typ string, n int) bool {
	objs := s.urls
	if typ == "tag" {
		objs = s.tags
	}
	if !throttled {
		if ok, _ := s.reqs.Take(1); ok {
			if ok, _ := objs.Take(float64(n)); ok {
				return true
			}
			s.reqs.Take(-1) // tokens are not consumed by a refused request
		}
	}
	s.problem(w, http.StatusTooManyRequests, "Rate Limit exceeded", "wait five seconds, then retry", map[string]string{
		"X-Ratelimit-Limit": "100", "X-Ratelimit-Remaining": fmt.Sprint(s.reqs.Remaining()),
		"X-Ratelimit-Limit-Objects": "10000", "X-Ratelimit-Remaining-Objects": fmt.Sprint(objs.Remaining())})
	return false
}

func (s *Server) accept(w http.ResponseWriter, typ string, objects []string) {
	rec := objects
	if typ == "tag" {
		rec = make([]string, len(objects))
		for i, o := range objects {
			rec[i] = "tag:" + o
		}
	}
	s.AddPurged(rec...)
	id := s.ids.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"httpStatus": 201, "detail": "Request accepted",
		"estimatedSeconds": s.opt.EstimatedSeconds, "purgeId": fmt.Sprintf("edcp-%08d", id),
		"supportId": fmt.Sprintf("17PY%d", id)})
}

func allURLs(objs []string) bool {
	for _, o := range objs {
		if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") {
			return false
		}
	}
	return true
}

// verify recomputes the EdgeGrid signature of r from the server's
// credentials; "" when it matches, else why not.
func (s *Server) verify(r *http.Request, body []byte) string {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "EG1-HMAC-SHA256 ")
	if !ok {
		return "not EG1-HMAC-SHA256"
	}
	f := map[string]string{}
	for _, kv := range strings.Split(rest, ";") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "signature" {
			v = kv[len("signature="):] // base64 may end in "="
		}
		f[k] = v
	}
	ts, err := time.Parse("20060102T15:04:05-0700", f["timestamp"])
	switch {
	case f["client_token"] != s.opt.ClientToken || f["access_token"] != s.opt.AccessToken:
		return "unknown client"
	case err != nil || time.Since(ts).Abs() > 5*time.Minute:
		return "timestamp missing or skewed"
	case !s.freshNonce(f["nonce"]):
		return "nonce reused"
	}
	signed := auth[:strings.Index(auth, "signature=")]
	hash := ""
	if len(body) > 0 {
		sum := sha256.Sum256(body[:min(len(body), 131072)])
		hash = base64.StdEncoding.EncodeToString(sum[:])
	}
	data := "POST\thttp\t" + strings.ToLower(r.Host) + "\t" + r.URL.RequestURI() + "\t\t" + hash + "\t" + signed
	key := mac([]byte(s.opt.ClientSecret), f["timestamp"])
	if !hmac.Equal([]byte(mac([]byte(key), data)), []byte(f["signature"])) {
		return "signature mismatch"
	}
	return ""
}

func (s *Server) freshNonce(n string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n == "" || s.nonces[n] {
		return false
	}
	s.nonces[n] = true
	return true
}

func mac(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
