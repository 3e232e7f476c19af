package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/ratelimit"
	"github.com/imgmgr/imgmgr/ratelimit/ratelimittest"
)

func TestLimiterConformance(t *testing.T) {
	ratelimittest.TestLimiter(t, func(t *testing.T, l ratelimit.Limit, now func() time.Time) ratelimit.Limiter {
		lim, err := openReal(t).NewLimiter(LimiterConfig{Limit: l, Policy: "p", Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return lim
	})
}

func TestLockoutConformance(t *testing.T) {
	ratelimittest.TestLockoutStore(t, func(t *testing.T, _ func() time.Time) ratelimit.LockoutStore {
		return openReal(t).NewLockoutStore()
	})
}

// TestLimiterRedisClock: without Now the script reads Redis' clock. The
// limit is one token a day, so the outcome does not depend on how long
// this takes.
func TestLimiterRedisClock(t *testing.T) {
	c := openReal(t)
	lim, err := c.NewLimiter(LimiterConfig{Limit: ratelimit.Every(24*time.Hour, 2), Policy: "p"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, allowed := range []bool{true, true, false} {
		d, err := lim.Allow(ctx, "k", 1)
		if err != nil || d.Allowed != allowed {
			t.Fatalf("request %d: %+v, %v; want allowed=%v", i, d, err, allowed)
		}
		if !allowed && (d.RetryAfter <= 23*time.Hour || d.RetryAfter > 24*time.Hour) {
			t.Fatalf("RetryAfter = %v, want just under a day", d.RetryAfter)
		}
	}
	// The key expires once the bucket would be full again: about 2 days.
	ttl, err := c.rdb.PTTL(ctx, c.prefix+"rl:p:k").Result()
	if err != nil || ttl <= 47*time.Hour || ttl > 48*time.Hour+time.Second {
		t.Fatalf("PTTL = %v, %v; want about 48h", ttl, err)
	}
}

// With Redis cut off, the limiter and the lockout fail fast with
// KindUnavailable (the HTTP layer then fails open or answers 503).
func TestLimiterRedisDown(t *testing.T) {
	p := testenv.RedisProxy(t)
	c := open(t, p.URL(), uniquePrefix(t))
	lim, err := c.NewLimiter(LimiterConfig{Limit: ratelimit.Every(time.Second, 1), Policy: "p"})
	if err != nil {
		t.Fatal(err)
	}
	lo, _ := ratelimit.NewLockout(c.NewLockoutStore(), ratelimit.LockoutConfig{})
	p.Cut()
	for i := range 3 {
		start := time.Now()
		_, err := lim.Allow(context.Background(), "k", 1)
		mustUnavailable(t, "Allow with Redis down", err)
		if d := time.Since(start); d > time.Second {
			t.Errorf("Allow %d took %v to fail", i, d)
		}
		if err := lo.Check(context.Background(), "u", "1.2.3.4"); imgmgr.KindOf(err) != imgmgr.KindUnavailable {
			t.Fatalf("Lockout.Check with Redis down: %v, want KindUnavailable", err)
		}
	}
}

func TestNewLimiterNeedsPolicy(t *testing.T) {
	if _, err := openReal(t).NewLimiter(LimiterConfig{Limit: ratelimit.Every(time.Second, 1)}); err == nil {
		t.Error("NewLimiter without a policy succeeded")
	}
}

func BenchmarkAllow(b *testing.B) {
	lim, _ := openReal(b).NewLimiter(LimiterConfig{Limit: ratelimit.Every(time.Microsecond, 1000), Policy: "bench"})
	for b.Loop() {
		if _, err := lim.Allow(context.Background(), "k", 1); err != nil {
			b.Fatal(err)
		}
	}
}
