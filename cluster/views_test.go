package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/stats"
	"github.com/imgmgr/imgmgr/stats/statstest"
)

func newViews(t *testing.T, c *Client, cfg ViewsConfig) *Views {
	t.Helper()
	v, err := c.NewViews(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestViewsConformance(t *testing.T) {
	c := openReal(t)
	statstest.Run(t, func(t *testing.T, now func() time.Time) stats.Views {
		return newViews(t, c, ViewsConfig{Now: now})
	})
}

// Counts reach Redis without Top asking: the flusher writes them.
func TestViewsFlushInBackground(t *testing.T) {
	c := openReal(t)
	v := newViews(t, c, ViewsConfig{FlushEvery: 20 * time.Millisecond})
	for range 3 {
		v.Record(context.Background(), "a")
	}
	key := c.prefix + "views:" + stats.Day(time.Now())
	waitFor(t, 5*time.Second, "the flush", func() bool {
		n, _ := c.rdb.ZScore(context.Background(), key, "a").Result()
		return n == 3
	})
}

// With Redis cut off, Record stays instant and nothing fails for the
// caller; the failed flushes are counted, the counts kept, and written once
// Redis is back. Close flushes what is left.
func TestViewsRedisDown(t *testing.T) {
	p := testenv.RedisProxy(t)
	c := open(t, p.URL(), uniquePrefix(t))
	v, err := c.NewViews(ViewsConfig{FlushEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p.Cut()
	var worst time.Duration
	for range 100 {
		start := time.Now()
		if err := v.Record(context.Background(), "a"); err != nil {
			t.Fatal(err)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("Record with Redis down: slowest of 100 took %v", worst)
	waitFor(t, 5*time.Second, "a failed flush", func() bool { return testutil.ToFloat64(c.metrics.flushFailed) > 0 })
	p.Restore()
	waitFor(t, 5*time.Second, "recovery", c.Available)
	v.Record(context.Background(), "b")
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	real := openReal(t)
	key := c.prefix + "views:" + stats.Day(time.Now())
	a, _ := real.rdb.ZScore(context.Background(), key, "a").Result()
	b, _ := real.rdb.ZScore(context.Background(), key, "b").Result()
	real.rdb.Del(context.Background(), key)
	if a+float64(testutil.ToFloat64(c.metrics.viewsDropped)) != 100 || b != 1 {
		t.Fatalf("after the outage: a=%v (+%v dropped), b=%v; want 100 and 1", a, testutil.ToFloat64(c.metrics.viewsDropped), b)
	}
}

// Past MaxPending distinct counts, new images are dropped, not buffered.
func TestViewsBounded(t *testing.T) {
	c := openReal(t)
	v := newViews(t, c, ViewsConfig{FlushEvery: time.Hour, MaxPending: 2})
	for _, id := range []string{"a", "b", "c", "a"} {
		v.Record(context.Background(), id)
	}
	if got := testutil.ToFloat64(c.metrics.viewsDropped); got != 1 {
		t.Fatalf("dropped %v, want 1", got)
	}
}
