package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// WriteHeaders sets the rate-limit headers of d on h: RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset (seconds until the bucket is full
// again), as in the IETF httpapi RateLimit header draft, and Retry-After
// (whole seconds, at least 1) when d denies the request. Call it before
// writing the response status.
func WriteHeaders(h http.Header, d Decision) {
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(d.Remaining, 0)))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.ResetAfter)))
	if !d.Allowed {
		h.Set("Retry-After", strconv.Itoa(max(ceilSeconds(d.RetryAfter), 1)))
	}
}

func ceilSeconds(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int(math.Ceil(d.Seconds()))
}
