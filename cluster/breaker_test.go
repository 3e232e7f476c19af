package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// waitFor polls cond every 5ms up to limit and returns how long it took.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// mustUnavailable checks that err is the breaker's fast KindUnavailable error.
func mustUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	var e *imgmgr.Error
	if !errors.As(err, &e) || e.Kind != imgmgr.KindUnavailable || e.RetryAfter <= 0 {
		t.Fatalf("%s: %v, want KindUnavailable with RetryAfter", what, err)
	}
}

// TestBreakerOpensFailsFastAndRecovers cuts the network between one client
// and Redis: the first call notices within the op timeout, the breaker
// opens, every further call fails at once, readiness says down, and the
// client recovers by itself once the network is back.
func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	p := testenv.RedisProxy(t)
	c := open(t, p.URL(), uniquePrefix(t))
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	p.Cut()
	start := time.Now()
	err := c.rdb.Set(ctx, c.prefix+"k", "v", time.Minute).Err()
	noticed := time.Since(start)
	mustUnavailable(t, "first call after the cut", err)
	if c.Available() {
		t.Fatal("the breaker did not open")
	}
	t.Logf("first call after the cut failed in %v", noticed)
	if noticed > time.Second {
		t.Errorf("noticing the cut took %v", noticed)
	}
	var worst time.Duration
	for range 20 {
		start := time.Now()
		err := c.Ping(ctx)
		worst = max(worst, time.Since(start))
		mustUnavailable(t, "while open", err)
		if !errors.Is(err, ErrOpen) {
			t.Fatalf("while open: %v, want ErrOpen", err)
		}
	}
	t.Logf("while open, the slowest of 20 calls failed in %v (target 50ms)", worst)
	if worst > time.Second { // a generous bound: the figure is in the log
		t.Errorf("a call while open took %v", worst)
	}
	time.Sleep(500 * time.Millisecond) // the probe fails a few times
	p.Restore()
	took := waitFor(t, 5*time.Second, "recovery", c.Available)
	t.Logf("recovered %v after the network came back (target 2s)", took)
	if err := c.rdb.Set(ctx, c.prefix+"k", "v", time.Minute).Err(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

// A missing key or a script error is no outage.
func TestBreakerIgnoresCommandErrors(t *testing.T) {
	c := openReal(t)
	ctx := context.Background()
	if err := c.rdb.Get(ctx, c.prefix+"missing").Err(); err == nil {
		t.Fatal("GET of a missing key succeeded")
	}
	c.rdb.Set(ctx, c.prefix+"s", "x", time.Minute)
	if err := c.rdb.HGet(ctx, c.prefix+"s", "f").Err(); err == nil {
		t.Fatal("HGET on a string succeeded")
	}
	if !c.Available() {
		t.Fatal("the breaker opened on command errors")
	}
}

// Start-up with Redis unreachable fails fast and names the target.
func TestOpenUnreachable(t *testing.T) {
	start := time.Now()
	_, err := Open(context.Background(), Config{URL: "redis://127.0.0.1:1/0"}, Deps{Logger: quiet})
	if err == nil {
		t.Fatal("Open succeeded")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Open took %v to fail", d)
	}
}

// A Redis that stops answering without closing anything (a black hole) is
// noticed within the op timeout, and the breaker takes over from there.
func TestBreakerNoticesABlackHole(t *testing.T) {
	p := testenv.RedisProxy(t)
	c := open(t, p.URL(), uniquePrefix(t))
	ctx := context.Background()
	if err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	p.Stall()
	start := time.Now()
	err := c.Ping(ctx)
	noticed := time.Since(start)
	mustUnavailable(t, "first call into the black hole", err)
	t.Logf("a stalled Redis was noticed in %v (op timeout %v)", noticed, c.cfg.OpTimeout)
	if noticed > time.Second {
		t.Errorf("noticing took %v", noticed)
	}
	start = time.Now()
	mustUnavailable(t, "while open", c.Ping(ctx))
	t.Logf("then a call failed in %v", time.Since(start))
	p.Restore()
	took := waitFor(t, 5*time.Second, "recovery", c.Available)
	t.Logf("recovered %v after the black hole ended", took)
}

// A pool exhausted by this process's own load fails the waiting call as
// unavailable but is no outage: the breaker stays closed.
func TestBreakerIgnoresPoolSaturation(t *testing.T) {
	u := testenv.RedisURL(t) + "?pool_size=1&pool_timeout=50ms"
	c := open(t, u, uniquePrefix(t))
	ctx := context.Background()
	held := make(chan struct{})
	go func() { // a blocking command holds the one connection for 500ms
		close(held)
		c.rdb.BLPop(ctx, 500*time.Millisecond, c.prefix+"empty")
	}()
	<-held
	time.Sleep(50 * time.Millisecond)
	err := c.rdb.Get(ctx, c.prefix+"k").Err()
	mustUnavailable(t, "a call with no free connection", err)
	if !c.Available() {
		t.Fatal("pool saturation opened the breaker")
	}
}
