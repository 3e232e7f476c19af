// Package aliyuntest is a test server that answers as Alibaba Cloud CDN's
// RPC API is documented to, for the three calls imgmgr makes
// (RefreshObjectCaches, PushObjectCache, DescribeRefreshTaskById): it
// checks the form POST, the common parameters, the RPC V1 signature
// (recomputed here), a fresh timestamp and an unused nonce; it enforces
// 1,000 URLs per refresh call, 100 per push call, one domain per call,
// the per-second call rate and the daily URL quotas; and it models tasks
// that stay Pending/Refreshing until they complete.
//
// Error codes are those Alibaba Cloud documents where it names them
// (SignatureDoesNotMatch, InvalidAccessKeyId.NotFound, Throttling.User);
// the quota answer's code here is QuotaExceeded.Refresh or
// QuotaExceeded.Push, a stand-in (the client treats any code containing
// "Quota" alike).
package aliyuntest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/imgmgr/imgmgr/cdn/cdntest"
)

// Options of the server; zero values are the documented defaults.
type Options struct {
	AccessKeyID, AccessKeySecret string  // defaults "id-1", "secret-1"
	PerSecond                    float64 // calls per second; default 50
	RefreshQuota, PushQuota      int     // URLs per day; defaults 10,000 and 1,000
	// CompleteAfter finishes tasks on their own after this long; 0 = only
	// Complete does.
	CompleteAfter time.Duration
}

type task struct {
	created time.Time
	done    bool
	kind    string
	paths   []string
}

// Server is the stand-in for cdn.aliyuncs.com.
type Server struct {
	cdntest.Record
	*httptest.Server
	opt    Options
	calls  *cdntest.Bucket
	mu     sync.Mutex
	nonces map[string]bool
	tasks  map[string]*task
	nextID int
	used   map[string]int // URLs used today per quota
}

// New starts a server; Close it when done.
func New(opt Options) *Server {
	if opt.AccessKeyID == "" {
		opt.AccessKeyID, opt.AccessKeySecret = "id-1", "secret-1"
	}
	if opt.PerSecond == 0 {
		opt.PerSecond = 50
	}
	if opt.RefreshQuota == 0 {
		opt.RefreshQuota = 10000
	}
	if opt.PushQuota == 0 {
		opt.PushQuota = 1000
	}
	s := &Server{opt: opt, calls: cdntest.NewBucket(opt.PerSecond, opt.PerSecond), nonces: map[string]bool{},
		tasks: map[string]*task{}, nextID: 704222904, used: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.rpc)
	s.Server = httptest.NewServer(mux)
	mux.Handle("/edge/", s.Edge(s.Server.URL))
	return s
}

// EdgeURL is a public base URL (pushes are recorded, not fetched).
func (s *Server) EdgeURL() string { return s.URL + "/edge" }

// Complete finishes every task.
func (s *Server) Complete() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tasks {
		s.finish(t)
	}
}

func (s *Server) finish(t *task) {
	if t.done {
		return
	}
	t.done = true
	if t.kind == "push" {
		s.AddPrefetched(t.paths...)
	}
}

func (s *Server) reply(w http.ResponseWriter, status int, body map[string]any) {
	body["RequestId"] = fmt.Sprintf("req-%d", time.Now().UnixNano())
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func (s *Server) fail(w http.ResponseWriter, status int, code, msg string) {
	if !strings.HasPrefix(code, "Throttling") && !strings.Contains(code, "Quota") {
		s.Refuse()
	} else {
		s.Limit()
	}
	s.reply(w, status, map[string]any{"Code": code, "Message": msg, "HostId": "cdn.aliyuncs.com"})
}

func (s *Server) rpc(w http.ResponseWriter, r *http.Request) {
	throttled := s.Request()
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.fail(w, 400, "UnsupportedHTTPMethod", "POST a form")
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, 400, "InvalidParameter", "unreadable form")
		return
	}
	p := r.PostForm
	if code, msg := s.authenticate(p); code != "" {
		status := 400
		if code == "InvalidAccessKeyId.NotFound" {
			status = 404
		}
		s.fail(w, status, code, msg)
		return
	}
	if ok, _ := s.calls.Take(1); throttled || !ok {
		s.fail(w, 400, "Throttling.User", "Request was denied due to user flow control.")
		return
	}
	switch p.Get("Action") {
	case "RefreshObjectCaches":
		s.submit(w, p, "refresh", 1000, s.opt.RefreshQuota, "RefreshTaskId")
	case "PushObjectCache":
		s.submit(w, p, "push", 100, s.opt.PushQuota, "PushTaskId")
	case "DescribeRefreshTaskById":
		s.describe(w, p.Get("TaskId"))
	default:
		s.fail(w, 400, "InvalidAction.NotFound", "unknown action")
	}
}

// authenticate checks the common parameters and the signature.
func (s *Server) authenticate(p url.Values) (code, msg string) {
	for k, want := range map[string]string{"Version": "2018-05-10", "Format": "JSON", "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0"} {
		if p.Get(k) != want {
			return "MissingParameter", k + " must be " + want
		}
	}
	if p.Get("AccessKeyId") != s.opt.AccessKeyID {
		return "InvalidAccessKeyId.NotFound", "Specified access key is not found."
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p.Get("Timestamp"))
	if err != nil || time.Since(ts).Abs() > 15*time.Minute {
		return "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
	}
	s.mu.Lock()
	reused := s.nonces[p.Get("SignatureNonce")] || p.Get("SignatureNonce") == ""
	s.nonces[p.Get("SignatureNonce")] = true
	s.mu.Unlock()
	if reused {
		return "SignatureNonceUsed", "Specified signature nonce was used already."
	}
	if !hmac.Equal([]byte(p.Get("Signature")), []byte(signature(s.opt.AccessKeySecret, p))) {
		return "SignatureDoesNotMatch", "Specified signature is not matched with our calculation."
	}
	return "", ""
}

// signature recomputes the RPC V1 signature of a POSTed form.
func signature(secret string, p url.Values) string {
	enc := func(s string) string {
		var b strings.Builder
		for _, c := range []byte(s) {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
		return b.String()
	}
	var keys []string
	for k := range p {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, enc(k)+"="+enc(p.Get(k)))
	}
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte("POST&%2F&" + enc(strings.Join(pairs, "&"))))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
