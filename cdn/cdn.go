// Package cdn is the contract between imgmgr and a CDN vendor's API, and
// the durable machinery around it: purge and prefetch tasks stored in the
// metadata store, coalesced into vendor-sized requests, paced under the
// vendor's documented limits, retried with backoff that honours the
// vendor's Retry-After, and polled until the vendor says they are done.
//
// A Provider purges URLs; further abilities are optional interfaces found
// by type assertion: TagPurger, Prefetcher (the vendor pushes content to its
// edge), StatusChecker (the vendor reports a task's progress). Providers
// live in cloudflare/, akamai/ and aliyun/; every one passes the
// conformance suite in cdntest against a test server that behaves as the
// vendor documents.
package cdn

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Object is one cached object: an absolute public URL and, for a URL whose
// format the origin negotiates, the Accept header of the variant meant
// ("" = the URL as a whole). Vendors that cannot key a purge by header
// ignore Accept.
type Object struct {
	URL    string `json:"url"`
	Accept string `json:"accept,omitempty"`
}

// Limits are what the vendor allows, used to cut and pace requests.
type Limits struct {
	// MaxObjects is the most objects (URLs or tags) one request may carry.
	MaxObjects int
	// MaxBodyBytes bounds the request body, 0 = no bound; ObjectBytes
	// estimates the bytes one object adds to it.
	MaxBodyBytes int
	ObjectBytes  func(s string) int
	// RequestsPerSecond and RequestBurst pace API calls; ObjectsPerSecond
	// and ObjectBurst pace the objects they carry (0 = unpaced).
	RequestsPerSecond float64
	RequestBurst      int
	ObjectsPerSecond  float64
	ObjectBurst       int
}

// Receipt is the vendor's answer to an accepted request.
type Receipt struct {
	TaskID string // the vendor's id of the work, "" when it gives none
	// Done is true when the vendor finished the work before answering
	// (Cloudflare's instant purge; warming GETs).
	Done bool
	// Estimate is how long the vendor says the work takes (Akamai's
	// estimatedSeconds); with no StatusChecker the task is done after it.
	Estimate time.Duration
}

// Provider is a CDN vendor's purge API. Implementations are safe for
// concurrent use. Every method returns an *Error for a vendor's refusal.
type Provider interface {
	// Name is the config name: cloudflare, akamai or aliyun.
	Name() string
	// URLLimits are the limits of PurgeURLs.
	URLLimits() Limits
	// PurgeURLs invalidates the objects, at most URLLimits().MaxObjects.
	PurgeURLs(ctx context.Context, objs []Object) (Receipt, error)
}

// TagPurger purges every object carrying one of the tags (the tag header
// imgmgr sets on variants).
type TagPurger interface {
	TagLimits() Limits
	PurgeTags(ctx context.Context, tags []string) (Receipt, error)
}

// Prefetcher loads objects into the edge before anyone asks for them.
type Prefetcher interface {
	PrefetchLimits() Limits
	Prefetch(ctx context.Context, objs []Object) (Receipt, error)
}

// State of a vendor task as StatusChecker reports it.
type State string

// Vendor task states.
const (
	VendorPending State = "pending"
	VendorDone    State = "done"
	VendorFailed  State = "failed"
)

// StatusChecker reports the state of vendor tasks by TaskID.
type StatusChecker interface {
	TaskStates(ctx context.Context, ids []string) (map[string]State, error)
}

// Error is a vendor's refusal or a failure to reach it.
type Error struct {
	Provider string
	Op       string
	Status   int    // HTTP status; 0 when the vendor could not be reached
	Code     string // the vendor's error code, when it gives one
	Message  string
	// Retry says whether the same request may succeed later (rate limits,
	// quotas, 5xx, network); RetryAfter is when, if the vendor said.
	Retry      bool
	RetryAfter time.Duration
	// Throttled marks the vendor's rate-limit or quota answer, whatever its
	// status (some vendors say 400 with a code).
	Throttled bool
	Err       error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("cdn %s %s: status %d", e.Provider, e.Op, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether err may go away on its own, and after how long
// the vendor asked to wait (0 = not said).
func Retryable(err error) (bool, time.Duration) {
	var e *Error
	if errors.As(err, &e) {
		return e.Retry, e.RetryAfter
	}
	return true, 0 // not a vendor answer: a network or local failure
}

// RateLimited reports whether err is the vendor's rate-limit or quota answer.
func RateLimited(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == 429 || e.Throttled)
}
