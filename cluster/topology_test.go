package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/locktest"
	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/events/eventstest"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/ratelimit"
	"github.com/imgmgr/imgmgr/ratelimit/ratelimittest"
	"github.com/imgmgr/imgmgr/stats"
	"github.com/imgmgr/imgmgr/stats/statstest"
)

// Every part runs its conformance suite over a real (one-node) Redis
// Cluster: scripts, pipelines and Pub/Sub must not depend on one server,
// and no command may span hash slots.
func TestOverRedisCluster(t *testing.T) {
	url := testenv.RedisClusterURL(t)
	if got := open(t, url, uniquePrefix(t)).Target(); !strings.HasPrefix(got, "cluster ") {
		t.Fatalf("target %q, want a cluster client", got)
	}
	runSuites(t, url)
}

// The Sentinel form finds the master through a real Sentinel.
func TestThroughSentinel(t *testing.T) {
	url := testenv.RedisSentinelURL(t)
	c := open(t, url, uniquePrefix(t))
	if err := c.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("connected to %s", c.Target())
	runSuites(t, url)
}

func runSuites(t *testing.T, url string) {
	t.Run("Bus", func(t *testing.T) {
		eventstest.Run(t, func(t *testing.T) (events.Bus, events.Bus) {
			prefix := uniquePrefix(t)
			return newBus(t, open(t, url, prefix)), newBus(t, open(t, url, prefix))
		})
	})
	t.Run("Limiter", func(t *testing.T) {
		ratelimittest.TestLimiter(t, func(t *testing.T, l ratelimit.Limit, now func() time.Time) ratelimit.Limiter {
			lim, err := open(t, url, uniquePrefix(t)).NewLimiter(LimiterConfig{Limit: l, Policy: "p", Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return lim
		})
	})
	t.Run("Lockout", func(t *testing.T) {
		ratelimittest.TestLockoutStore(t, func(t *testing.T, _ func() time.Time) ratelimit.LockoutStore {
			return open(t, url, uniquePrefix(t)).NewLockoutStore()
		})
	})
	t.Run("Views", func(t *testing.T) {
		c := open(t, url, uniquePrefix(t))
		statstest.Run(t, func(t *testing.T, now func() time.Time) stats.Views {
			return newViews(t, c, ViewsConfig{Now: now})
		})
	})
	t.Run("KeyLocks", func(t *testing.T) {
		locktest.Run(t, locktest.Backend{
			Open: func(t *testing.T) (blob.KeyLocker, blob.KeyLocker) {
				prefix := uniquePrefix(t)
				return newKeyLocks(t, open(t, url, prefix)), newKeyLocks(t, open(t, url, prefix))
			},
			Die:   func(a blob.KeyLocker) { a.(*KeyLocks).Close() },
			Lapse: time.Second,
		})
	})
	t.Run("Flights", func(t *testing.T) { testFlightsHandOver(t, url) })
}

// testFlightsHandOver: one replica leads, the other waits and is woken by
// done.
func testFlightsHandOver(t *testing.T, url string) {
	prefix := uniquePrefix(t)
	a, b := newFlights(t, open(t, url, prefix), 10*time.Second), newFlights(t, open(t, url, prefix), 10*time.Second)
	ctx := context.Background()
	done, ok, err := a.Lead(ctx, "v")
	if err != nil || !ok {
		t.Fatalf("Lead: ok=%v err=%v", ok, err)
	}
	waited := waitAsync(b, ctx, "v")
	time.Sleep(100 * time.Millisecond)
	done(true)
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second): // well before the 2.5s poll
		t.Fatal("done did not wake the waiter")
	}
}
