// Package cdntest is the conformance suite every cdn.Provider passes (Run),
// and what the vendor-exact test servers share: the Vendor view the suite
// inspects, a token bucket that models vendors' rate limits, and a record
// of what the vendor accepted. The test servers themselves live beside each
// provider (cloudflare/cloudflaretest, ...): they are the only stand-ins for
// the vendors, which cannot be reached from tests.
package cdntest

import (
	"net/http"
	"sort"
	"sync"
	"time"
)

// Vendor is what the suite asks a vendor's test server.
type Vendor interface {
	// Requests counts API calls (accepted or refused), Refused those
	// answered with a 4xx other than the rate limit (a client bug).
	Requests() int
	Refused() int
	// Purged lists every object accepted for purging, sorted: a URL, "URL
	// Accept" for a purge keyed by Accept, or "tag:T".
	Purged() []string
	// Prefetched lists the objects warmed or pushed, as Purged.
	Prefetched() []string
	// Throttle makes the next n API calls get the vendor's rate-limit answer.
	Throttle(n int)
	// Complete finishes every vendor task still in progress.
	Complete()
	// EdgeURL is a base URL whose GETs the server answers as the CDN edge
	// would (for warming), recording them as prefetched.
	EdgeURL() string
}

// Bucket is a token bucket like the vendors' (capacity, refill per second).
type Bucket struct {
	mu     sync.Mutex
	cap    float64
	rate   float64
	tokens float64
	last   time.Time
}

// NewBucket returns a full bucket.
func NewBucket(capacity, perSecond float64) *Bucket {
	return &Bucket{cap: capacity, rate: perSecond, tokens: capacity, last: time.Now()}
}

// Take removes n tokens if there are that many; otherwise it takes none and
// says how long until there will be.
func (b *Bucket) Take(n float64) (ok bool, wait time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = min(b.cap, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	if b.tokens >= n {
		b.tokens -= n
		return true, 0
	}
	return false, time.Duration((n - b.tokens) / b.rate * float64(time.Second))
}

// Remaining is the whole tokens left.
func (b *Bucket) Remaining() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return int(b.tokens)
}

// Record keeps what a vendor server saw. Safe for concurrent use.
type Record struct {
	mu                 sync.Mutex
	requests, refused  int
	limited            int
	throttle           int
	purged, prefetched []string
}

// Request counts a call and reports whether it must be throttled.
func (r *Record) Request() (throttled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if r.throttle > 0 {
		r.throttle--
		return true
	}
	return false
}

// Limit counts a rate-limit (or quota) answer.
func (r *Record) Limit() { r.mu.Lock(); r.limited++; r.mu.Unlock() }

// Limited counts rate-limit and quota answers.
func (r *Record) Limited() int { r.mu.Lock(); defer r.mu.Unlock(); return r.limited }

// Refuse counts a refused call.
func (r *Record) Refuse() { r.mu.Lock(); r.refused++; r.mu.Unlock() }

// AddPurged and AddPrefetched record accepted objects.
func (r *Record) AddPurged(objs ...string) {
	r.mu.Lock()
	r.purged = append(r.purged, objs...)
	r.mu.Unlock()
}

// AddPrefetched records warmed or pushed objects.
func (r *Record) AddPrefetched(objs ...string) {
	r.mu.Lock()
	r.prefetched = append(r.prefetched, objs...)
	r.mu.Unlock()
}

// Requests counts calls.
func (r *Record) Requests() int { r.mu.Lock(); defer r.mu.Unlock(); return r.requests }

// Refused counts refused calls.
func (r *Record) Refused() int { r.mu.Lock(); defer r.mu.Unlock(); return r.refused }

// Purged is sorted.
func (r *Record) Purged() []string { r.mu.Lock(); defer r.mu.Unlock(); return sorted(r.purged) }

// Prefetched is sorted.
func (r *Record) Prefetched() []string { r.mu.Lock(); defer r.mu.Unlock(); return sorted(r.prefetched) }

// Throttle makes the next n calls throttled.
func (r *Record) Throttle(n int) { r.mu.Lock(); r.throttle += n; r.mu.Unlock() }

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Edge answers GETs as a CDN edge would (200 and a small body) and
// records each one, with its Accept, as prefetched.
func (r *Record) Edge(base string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		obj := base + req.URL.RequestURI()
		if a := req.Header.Get("Accept"); a != "" {
			obj += " " + a
		}
		r.AddPrefetched(obj)
		w.Header().Set("Content-Type", "image/jpeg")
		w.Write([]byte("edge copy"))
	})
}
