// Package cloudflaretest is a test server that answers as Cloudflare's
// purge_cache API is documented to: it checks the method, path, bearer
// token, content type and body of every call, refuses more than 100 files
// or tags per request, enforces a token bucket per account with 429 +
// Retry-After, and records what it purged. Under /edge/ it answers GETs as
// the CDN edge (for warming).
package cloudflaretest

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/imgmgr/imgmgr/cdn/cdntest"
)

// Options of the server; zero values are Cloudflare's Pro plan.
type Options struct {
	ZoneID, Token string  // defaults "zone-1", "token-1"
	Burst         float64 // request bucket; default 25
	PerSecond     float64 // refill; default 5
	MaxPerRequest int     // default 100
}

// Server is the stand-in for api.cloudflare.com.
type Server struct {
	cdntest.Record
	*httptest.Server
	opt    Options
	bucket *cdntest.Bucket
	ids    atomic.Int64
}

// New starts a server; Close it when done.
func New(opt Options) *Server {
	if opt.ZoneID == "" {
		opt.ZoneID = "zone-1"
	}
	if opt.Token == "" {
		opt.Token = "token-1"
	}
	if opt.Burst == 0 {
		opt.Burst = 25
	}
	if opt.PerSecond == 0 {
		opt.PerSecond = 5
	}
	if opt.MaxPerRequest == 0 {
		opt.MaxPerRequest = 100
	}
	s := &Server{opt: opt, bucket: cdntest.NewBucket(opt.Burst, opt.PerSecond)}
	mux := http.NewServeMux()
	mux.HandleFunc("/client/v4/zones/{zone}/purge_cache", s.purge)
	s.Server = httptest.NewServer(mux)
	mux.Handle("/edge/", s.Edge(s.Server.URL))
	return s
}

// APIBase is the api_base to configure.
func (s *Server) APIBase() string { return s.URL + "/client/v4" }

// EdgeURL is the public base URL served as the edge.
func (s *Server) EdgeURL() string { return s.URL + "/edge" }

// Complete does nothing: Cloudflare purges are instant.
func (s *Server) Complete() {}

type apiError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (s *Server) answer(w http.ResponseWriter, status int, errs ...apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]any{"success": len(errs) == 0, "errors": errs, "messages": []any{}}
	if len(errs) == 0 {
		body["result"] = map[string]string{"id": fmt.Sprintf("%032x", s.ids.Add(1))}
	} else {
		body["result"] = nil
	}
	json.NewEncoder(w).Encode(body)
}

func (s *Server) refuse(w http.ResponseWriter, status, code int, msg string) {
	s.Refuse()
	s.answer(w, status, apiError{code, msg})
}

func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	throttled := s.Request()
	switch {
	case r.Method != http.MethodPost:
		s.refuse(w, http.StatusMethodNotAllowed, 10000, "method not allowed")
		return
	case r.PathValue("zone") != s.opt.ZoneID:
		s.refuse(w, http.StatusNotFound, 7003, "Could not route to /zones/"+r.PathValue("zone"))
		return
	case r.Header.Get("Authorization") != "Bearer "+s.opt.Token:
		s.refuse(w, http.StatusForbidden, 10000, "Authentication error")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.refuse(w, http.StatusBadRequest, 6003, "Invalid request headers")
		return
	}
	if ok, wait := s.bucket.Take(1); throttled || !ok {
		s.Limit()
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
		s.answer(w, http.StatusTooManyRequests, apiError{971, "Please wait and consider throttling your request speed"})
		return
	}
	objs, msg := s.parse(r)
	if msg != "" {
		s.refuse(w, http.StatusBadRequest, 1004, msg)
		return
	}
	s.AddPurged(objs...)
	s.answer(w, http.StatusOK)
}

// parse reads exactly one of files or tags (hosts, prefixes and
// purge_everything are valid Cloudflare calls imgmgr never makes, so they
// are refused here to catch a client bug).
func (s *Server) parse(r *http.Request) ([]string, string) {
	var body map[string]json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
	if err := dec.Decode(&body); err != nil {
		return nil, "body is not a JSON object"
	}
	if len(body) != 1 {
		return nil, "exactly one of files or tags is expected"
	}
	if raw, ok := body["tags"]; ok {
		var tags []string
		if json.Unmarshal(raw, &tags) != nil || len(tags) == 0 {
			return nil, "tags must be a non-empty list of strings"
		}
		if len(tags) > s.opt.MaxPerRequest {
			return nil, fmt.Sprintf("more than %d tags", s.opt.MaxPerRequest)
		}
		for i, t := range tags {
			if t == "" || strings.ContainsAny(t, ", ") {
				return nil, "invalid tag"
			}
			tags[i] = "tag:" + t
		}
		return tags, ""
	}
	return s.parseFiles(body["files"])
}

func (s *Server) parseFiles(raw json.RawMessage) ([]string, string) {
	var files []json.RawMessage
	if raw == nil || json.Unmarshal(raw, &files) != nil || len(files) == 0 {
		return nil, "files must be a non-empty list"
	}
	if len(files) > s.opt.MaxPerRequest {
		return nil, fmt.Sprintf("more than %d files", s.opt.MaxPerRequest)
	}
	out := make([]string, 0, len(files))
	for _, f := range files {
		var u string
		if json.Unmarshal(f, &u) == nil {
			out = append(out, u)
			continue
		}
		var e struct {
			URL     string            `json:"url"`
			Headers map[string]string `json:"headers"`
		}
		if json.Unmarshal(f, &e) != nil || !strings.HasPrefix(e.URL, "http") || len(e.Headers) == 0 {
			return nil, "a file is a URL or {url, headers}"
		}
		out = append(out, e.URL+" "+e.Headers["Accept"])
	}
	return out, ""
}
