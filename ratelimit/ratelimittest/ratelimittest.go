// Package ratelimittest is the conformance suite every ratelimit.Limiter
// and ratelimit.LockoutStore runs, with a settable clock so that no test
// waits on the wall clock.
package ratelimittest

import (
	"sync"
	"time"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at a fixed instant (whole microseconds, as Redis
// keeps them).
func NewClock() *Clock {
	return &Clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// near reports whether a is within a millisecond of b (Redis keeps
// microseconds and rounds up).
func near(a, b time.Duration) bool {
	d := a - b
	return d > -time.Millisecond && d < time.Millisecond
}
