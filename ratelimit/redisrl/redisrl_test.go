package redisrl_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/ratelimit"
	"github.com/imgmgr/imgmgr/ratelimit/ratelimittest"
	"github.com/imgmgr/imgmgr/ratelimit/redisrl"
)

// client connects to the test Redis with a prefix of the test's own.
func client(t *testing.T) (*redis.Client, string) { return testenv.RedisClient(t) }

func TestLimiterConformance(t *testing.T) {
	ratelimittest.TestLimiter(t, func(t *testing.T, l ratelimit.Limit, now func() time.Time) ratelimit.Limiter {
		rdb, prefix := client(t)
		lim, err := redisrl.New(rdb, redisrl.Config{Limit: l, Prefix: prefix, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return lim
	})
}

func TestLockoutConformance(t *testing.T) {
	ratelimittest.TestLockoutStore(t, func(t *testing.T, _ func() time.Time) ratelimit.LockoutStore {
		rdb, prefix := client(t)
		s, err := redisrl.NewLockoutStore(rdb, prefix)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestRedisClock: without Now the script reads Redis' clock. The limit is
// one token a day, so the outcome does not depend on how long this takes.
func TestRedisClock(t *testing.T) {
	rdb, prefix := client(t)
	lim, err := redisrl.New(rdb, redisrl.Config{Limit: ratelimit.Every(24*time.Hour, 2), Prefix: prefix})
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
	ttl, err := rdb.PTTL(ctx, prefix+"k").Result()
	if err != nil || ttl <= 47*time.Hour || ttl > 48*time.Hour+time.Second {
		t.Fatalf("PTTL = %v, %v; want about 48h", ttl, err)
	}
}

func TestRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	defer rdb.Close()
	lim, err := redisrl.New(rdb, redisrl.Config{Limit: ratelimit.Every(time.Second, 1), Prefix: "x:"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lim.Allow(context.Background(), "k", 1); imgmgr.KindOf(err) != imgmgr.KindUnavailable {
		t.Fatalf("Allow with Redis down: %v, want KindUnavailable", err)
	}
	s, _ := redisrl.NewLockoutStore(rdb, "x:")
	lo, _ := ratelimit.NewLockout(s, ratelimit.LockoutConfig{})
	if err := lo.Check(context.Background(), "u", "1.2.3.4"); imgmgr.KindOf(err) != imgmgr.KindUnavailable {
		t.Fatalf("Lockout.Check with Redis down: %v, want KindUnavailable", err)
	}
}

func TestNewNeedsPrefix(t *testing.T) {
	if _, err := redisrl.New(nil, redisrl.Config{Limit: ratelimit.Every(time.Second, 1)}); err == nil {
		t.Error("New without a prefix succeeded")
	}
	if _, err := redisrl.NewLockoutStore(nil, ""); err == nil {
		t.Error("NewLockoutStore without a prefix succeeded")
	}
}

func BenchmarkAllow(b *testing.B) {
	opt, err := redis.ParseURL(testenv.RedisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	lim, _ := redisrl.New(rdb, redisrl.Config{Limit: ratelimit.Every(time.Microsecond, 1000), Prefix: "imgmgr-bench:rl:"})
	for b.Loop() {
		if _, err := lim.Allow(context.Background(), "k", 1); err != nil {
			b.Fatal(err)
		}
	}
}
