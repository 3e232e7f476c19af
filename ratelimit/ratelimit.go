// Package ratelimit decides whether a caller may go on: token buckets keyed
// by a string (a principal id, a client IP), in process or shared through
// Redis (see cluster.Limiter), a login lockout that grows its delay with each
// failure, and the HTTP pieces a middleware needs (headers, client IP
// behind trusted proxies).
//
// A Limiter applies one Limit to every key; build one Limiter per policy
// (uploads per user, API calls per IP, renders per user, ...) and per role
// when roles get different limits.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/imgmgr/imgmgr"
)

// Limit is a token bucket: Burst tokens at most, refilled at Rate tokens per
// second. A request of cost n takes n tokens.
type Limit struct {
	Rate  float64 // tokens per second, > 0
	Burst int     // bucket size, >= 1; also the most one request may cost
}

// Every returns a Limit refilling one token per interval, holding burst.
func Every(interval time.Duration, burst int) Limit {
	return Limit{Rate: float64(time.Second) / float64(interval), Burst: burst}
}

// PerMinute returns a Limit of n tokens a minute, holding burst.
func PerMinute(n float64, burst int) Limit { return Limit{Rate: n / 60, Burst: burst} }

// Validate reports a limit that cannot work.
func (l Limit) Validate() error {
	if !(l.Rate > 0) || math.IsInf(l.Rate, 0) || l.Burst < 1 {
		return fmt.Errorf("ratelimit: limit needs rate > 0 and burst >= 1 (have %v/s, burst %d)", l.Rate, l.Burst)
	}
	return nil
}

// interval is the time one token takes to refill.
func (l Limit) interval() time.Duration {
	return time.Duration(float64(time.Second) / l.Rate)
}

// Decision is the answer for one request.
type Decision struct {
	Allowed    bool
	Limit      int           // the bucket size (Burst)
	Remaining  int           // whole tokens left after this request
	ResetAfter time.Duration // until the bucket is full again
	RetryAfter time.Duration // until this request would be allowed; 0 when Allowed
}

// Err returns nil for an allowed decision and a 429 rate_limited error
// carrying RetryAfter otherwise.
func (d Decision) Err() error {
	if d.Allowed {
		return nil
	}
	return &imgmgr.Error{Kind: imgmgr.KindRateLimited, Code: "rate_limited",
		Message: "too many requests; try again later", RetryAfter: max(d.RetryAfter, time.Second)}
}

// Limiter decides per key. Implementations are safe for concurrent use.
type Limiter interface {
	// Allow takes cost tokens from key's bucket if it holds that many and
	// reports the outcome; a denied request takes nothing. Cost 0 looks
	// without taking. A cost above the Limit's Burst can never pass: the
	// Decision is denied and the error is ErrCostOverBurst (KindTooLarge).
	// Other errors (Redis down) are KindUnavailable; the caller chooses to
	// fail open or closed.
	Allow(ctx context.Context, key string, cost int) (Decision, error)
}

// ErrCostOverBurst is returned for a request that costs more than a bucket
// can ever hold (e.g. an upload larger than the byte budget's burst).
var ErrCostOverBurst = &imgmgr.Error{Kind: imgmgr.KindTooLarge, Code: "over_rate_limit",
	Message: "the request is larger than the rate limit allows at once"}

// errNegativeCost is a programming error.
var errNegativeCost = errors.New("ratelimit: negative cost")

// check validates a request against the limit; done reports that the
// decision is already made (cost over burst).
func check(l Limit, cost int) (d Decision, done bool, err error) {
	if cost < 0 {
		return Decision{}, true, imgmgr.Internal("ratelimit.Allow", errNegativeCost)
	}
	if cost > l.Burst {
		return Decision{Limit: l.Burst}, true, ErrCostOverBurst
	}
	return Decision{}, false, nil
}
