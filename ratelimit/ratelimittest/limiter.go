package ratelimittest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/ratelimit"
)

// NewLimiter returns a fresh Limiter applying l, reading the clock now,
// whose keys no other Limiter shares.
type NewLimiter func(t *testing.T, l ratelimit.Limit, now func() time.Time) ratelimit.Limiter

// want is the expected part of a Decision.
type want struct {
	allowed    bool
	remaining  int
	retryAfter time.Duration
	resetAfter time.Duration
}

// step is one Allow call after advancing the clock.
type step struct {
	advance time.Duration
	key     string
	cost    int
	want    want
}

// TestLimiter runs the conformance suite. Limits are slow (tokens a
// minute) so that a store expiring keys on its own clock cannot change an
// outcome while a test runs.
func TestLimiter(t *testing.T, newLimiter NewLimiter) {
	m := time.Minute
	cases := []struct {
		name  string
		limit ratelimit.Limit
		steps []step
	}{
		{"burst then deny", ratelimit.Every(m, 3), []step{
			{0, "a", 1, want{true, 2, 0, 1 * m}},
			{0, "a", 1, want{true, 1, 0, 2 * m}},
			{0, "a", 1, want{true, 0, 0, 3 * m}},
			{0, "a", 1, want{false, 0, 1 * m, 3 * m}},
		}},
		{"denied takes nothing; tokens refill", ratelimit.Every(m, 2), []step{
			{0, "a", 1, want{true, 1, 0, m}},
			{0, "a", 1, want{true, 0, 0, 2 * m}},
			{59 * time.Second, "a", 1, want{false, 0, time.Second, 61 * time.Second}},
			{time.Second, "a", 1, want{true, 0, 0, 2 * m}},
			{0, "a", 1, want{false, 0, m, 2 * m}},
		}},
		{"cost takes that many tokens", ratelimit.Every(m, 10), []step{
			{0, "a", 4, want{true, 6, 0, 4 * m}},
			{0, "a", 7, want{false, 6, m, 4 * m}},
			{0, "a", 6, want{true, 0, 0, 10 * m}},
			{3 * m, "a", 3, want{true, 0, 0, 10 * m}},
		}},
		{"cost zero looks without taking", ratelimit.Every(m, 5), []step{
			{0, "a", 2, want{true, 3, 0, 2 * m}},
			{0, "a", 0, want{true, 3, 0, 2 * m}},
			{0, "a", 0, want{true, 3, 0, 2 * m}},
			{0, "a", 3, want{true, 0, 0, 5 * m}},
			{0, "a", 0, want{true, 0, 0, 5 * m}},
		}},
		{"keys are independent", ratelimit.Every(m, 1), []step{
			{0, "a", 1, want{true, 0, 0, m}},
			{0, "a", 1, want{false, 0, m, m}},
			{0, "b", 1, want{true, 0, 0, m}},
			{0, "user:42", 1, want{true, 0, 0, m}},
			{0, "2001:db8::/64", 1, want{true, 0, 0, m}},
		}},
		{"an idle bucket fills up and no further", ratelimit.Every(m, 3), []step{
			{0, "a", 3, want{true, 0, 0, 3 * m}},
			{3 * m, "a", 1, want{true, 2, 0, m}},
			{24 * time.Hour, "a", 1, want{true, 2, 0, m}},
		}},
		{"fractional interval", ratelimit.PerMinute(7, 2), []step{
			{0, "a", 2, want{true, 0, 0, 2 * m / 7}},
			{0, "a", 1, want{false, 0, m / 7, 2 * m / 7}},
			{m / 7, "a", 1, want{true, 0, 0, 2 * m / 7}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := NewClock()
			lim := newLimiter(t, tc.limit, clock.Now)
			for i, s := range tc.steps {
				clock.Advance(s.advance)
				d, err := lim.Allow(context.Background(), s.key, s.cost)
				if err != nil {
					t.Fatalf("step %d: Allow(%q, %d): %v", i, s.key, s.cost, err)
				}
				checkDecision(t, i, d, tc.limit.Burst, s.want)
			}
		})
	}
	t.Run("cost over burst never passes", func(t *testing.T) {
		lim := newLimiter(t, ratelimit.Every(m, 3), NewClock().Now)
		d, err := lim.Allow(context.Background(), "a", 4)
		if !errors.Is(err, ratelimit.ErrCostOverBurst) || imgmgr.KindOf(err) != imgmgr.KindTooLarge || d.Allowed {
			t.Fatalf("Allow(cost 4, burst 3) = %+v, %v; want denied with ErrCostOverBurst", d, err)
		}
	})
	t.Run("negative cost is an error", func(t *testing.T) {
		lim := newLimiter(t, ratelimit.Every(m, 3), NewClock().Now)
		if d, err := lim.Allow(context.Background(), "a", -1); err == nil || d.Allowed {
			t.Fatalf("Allow(cost -1) = %+v, %v; want an error", d, err)
		}
	})
	t.Run("concurrent callers share one budget", func(t *testing.T) {
		testConcurrent(t, newLimiter)
	})
}

func checkDecision(t *testing.T, i int, d ratelimit.Decision, burst int, w want) {
	t.Helper()
	if d.Allowed != w.allowed || d.Remaining != w.remaining || d.Limit != burst ||
		!near(d.RetryAfter, w.retryAfter) || !near(d.ResetAfter, w.resetAfter) {
		t.Fatalf("step %d: decision %+v, want allowed=%v remaining=%d limit=%d retry=%v reset=%v",
			i, d, w.allowed, w.remaining, burst, w.retryAfter, w.resetAfter)
	}
	if err := d.Err(); (err == nil) != d.Allowed {
		t.Fatalf("step %d: Err() = %v for allowed=%v", i, err, d.Allowed)
	} else if err != nil && (imgmgr.KindOf(err) != imgmgr.KindRateLimited || err.(*imgmgr.Error).RetryAfter <= 0) {
		t.Fatalf("step %d: Err() = %v, want 429 with RetryAfter", i, err)
	}
}

// testConcurrent: with the clock still, exactly Burst of many concurrent
// requests pass.
func testConcurrent(t *testing.T, newLimiter NewLimiter) {
	const burst, workers, each = 37, 8, 10
	lim := newLimiter(t, ratelimit.Every(time.Hour, burst), NewClock().Now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				d, err := lim.Allow(context.Background(), "shared", 1)
				if err != nil {
					errs <- err
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := allowed.Load(); n != burst {
		t.Fatalf("%d of %d concurrent requests allowed, want exactly %d", n, workers*each, burst)
	}
}
