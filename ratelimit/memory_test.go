package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/ratelimit"
	"github.com/imgmgr/imgmgr/ratelimit/ratelimittest"
)

func TestMemoryConformance(t *testing.T) {
	ratelimittest.TestLimiter(t, func(t *testing.T, l ratelimit.Limit, now func() time.Time) ratelimit.Limiter {
		m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{Limit: l, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}

func TestMemoryLockoutConformance(t *testing.T) {
	ratelimittest.TestLockoutStore(t, func(t *testing.T, now func() time.Time) ratelimit.LockoutStore {
		return ratelimit.NewMemoryLockoutStore(0, now)
	})
}

// TestMemoryEvictsIdleKeys: buckets that have refilled are dropped, so a
// flood of distinct keys does not grow memory once they go quiet.
func TestMemoryEvictsIdleKeys(t *testing.T) {
	clock := ratelimittest.NewClock()
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{Limit: ratelimit.Every(time.Second, 2), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 1000 {
		m.Allow(ctx, fmt.Sprint("ip-", i), 1)
	}
	if m.Len() != 1000 {
		t.Fatalf("Len = %d, want 1000", m.Len())
	}
	clock.Advance(time.Second) // not yet full: one token back of two
	m.Allow(ctx, "other", 1)
	if m.Len() != 1001 {
		t.Fatalf("Len = %d after 1s, want 1001 (buckets not full yet are kept)", m.Len())
	}
	clock.Advance(time.Second)
	m.Allow(ctx, "other", 1)
	if m.Len() != 1 {
		t.Fatalf("Len = %d after the buckets refilled, want 1", m.Len())
	}
}

// TestMemoryMaxKeys: the number of buckets never passes MaxKeys; the least
// recently used goes first.
func TestMemoryMaxKeys(t *testing.T) {
	m, err := ratelimit.NewMemory(ratelimit.MemoryConfig{Limit: ratelimit.Every(time.Hour, 1), MaxKeys: 3, Now: ratelimittest.NewClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "a", "d"} { // "b" is least recently used when "d" arrives
		m.Allow(ctx, k, 1)
	}
	if m.Len() != 3 {
		t.Fatalf("Len = %d, want 3", m.Len())
	}
	// Peeking at a, c and d finds their spent buckets; b's was dropped, so
	// it starts full.
	for _, k := range []struct {
		key       string
		remaining int
	}{{"a", 0}, {"c", 0}, {"d", 0}, {"b", 1}} {
		if d, _ := m.Allow(ctx, k.key, 0); d.Remaining != k.remaining {
			t.Errorf("key %s: remaining %d, want %d", k.key, d.Remaining, k.remaining)
		}
	}
}

func TestMemoryLockoutStoreForgets(t *testing.T) {
	clock := ratelimittest.NewClock()
	s := ratelimit.NewMemoryLockoutStore(2, clock.Now)
	ctx := context.Background()
	s.Fail(ctx, "a", time.Minute)
	s.Fail(ctx, "a", time.Minute)
	clock.Advance(time.Minute)
	if n, _ := s.Fail(ctx, "a", time.Minute); n != 1 {
		t.Fatalf("Fail after the forget period = %d, want 1", n)
	}
	s.Fail(ctx, "b", time.Minute)
	s.Fail(ctx, "c", time.Minute)
	if s.Len() != 2 {
		t.Fatalf("Len = %d, want at most 2", s.Len())
	}
}

func TestLimitValidate(t *testing.T) {
	for _, l := range []ratelimit.Limit{{Rate: 0, Burst: 1}, {Rate: 1, Burst: 0}, {Rate: -1, Burst: 3}} {
		if l.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", l)
		}
	}
	if err := ratelimit.PerMinute(60, 10).Validate(); err != nil {
		t.Error(err)
	}
}

func TestLockoutConfigValidate(t *testing.T) {
	for _, c := range []ratelimit.LockoutConfig{
		{Free: -1}, {Base: time.Hour, Max: time.Minute}, {Max: time.Hour, Forget: time.Minute},
	} {
		if c.Validate() == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
}
