package ratelimittest

import (
	"context"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/ratelimit"
)

// NewLockoutStore returns a fresh, empty store reading the clock now
// where it keeps time itself.
type NewLockoutStore func(t *testing.T, now func() time.Time) ratelimit.LockoutStore

// TestLockoutStore runs the conformance suite for a LockoutStore and the
// Lockout policy over it.
func TestLockoutStore(t *testing.T, newStore NewLockoutStore) {
	t.Run("store", func(t *testing.T) { testStore(t, newStore(t, NewClock().Now)) })
	t.Run("growing delay", func(t *testing.T) { testGrowingDelay(t, newStore) })
	t.Run("pairs are independent", func(t *testing.T) { testPairs(t, newStore) })
}

func testStore(t *testing.T, s ratelimit.LockoutStore) {
	ctx := context.Background()
	const day = 24 * time.Hour
	if u, err := s.Locked(ctx, "a"); err != nil || !u.IsZero() {
		t.Fatalf("Locked(unknown) = %v, %v; want zero", u, err)
	}
	for want := 1; want <= 3; want++ {
		if n, err := s.Fail(ctx, "a", day); err != nil || n != want {
			t.Fatalf("Fail #%d = %d, %v", want, n, err)
		}
	}
	if n, err := s.Fail(ctx, "b", day); err != nil || n != 1 {
		t.Fatalf("Fail(b) = %d, %v; keys must be independent", n, err)
	}
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, l := range []struct{ lock, want time.Time }{
		{t0.Add(time.Hour), t0.Add(time.Hour)},
		{t0.Add(time.Minute), t0.Add(time.Hour)},       // an earlier lock does not shorten it
		{t0.Add(2 * time.Hour), t0.Add(2 * time.Hour)}, // a later one extends it
	} {
		if err := s.Lock(ctx, "a", l.lock); err != nil {
			t.Fatal(err)
		}
		if u, err := s.Locked(ctx, "a"); err != nil || !u.Equal(l.want) {
			t.Fatalf("after Lock(%v): Locked = %v, %v; want %v", l.lock, u, err, l.want)
		}
	}
	if u, _ := s.Locked(ctx, "b"); !u.IsZero() {
		t.Fatalf("Locked(b) = %v; locking a must not lock b", u)
	}
	if err := s.Reset(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if u, err := s.Locked(ctx, "a"); err != nil || !u.IsZero() {
		t.Fatalf("after Reset: Locked = %v, %v", u, err)
	}
	if n, _ := s.Fail(ctx, "a", day); n != 1 {
		t.Fatalf("after Reset: Fail = %d, want 1", n)
	}
}

func testGrowingDelay(t *testing.T, newStore NewLockoutStore) {
	ctx := context.Background()
	clock := NewClock()
	lo, err := ratelimit.NewLockout(newStore(t, clock.Now), ratelimit.LockoutConfig{
		Free: 3, Base: time.Second, Max: 8 * time.Second, Forget: time.Hour, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const user, ip = "Alice", "192.0.2.7"
	for i, want := range []time.Duration{0, 0, 0, 1, 2, 4, 8, 8} {
		if err := lo.Check(ctx, user, ip); err != nil {
			t.Fatalf("failure %d: Check before it = %v", i+1, err)
		}
		d, err := lo.Failure(ctx, user, ip)
		if err != nil || d != want*time.Second {
			t.Fatalf("failure %d: delay %v, %v; want %v", i+1, d, err, want*time.Second)
		}
		if d > 0 {
			wantLocked(t, lo.Check(ctx, "alice", ip), d) // usernames ignore case
			clock.Advance(d - time.Millisecond)
			wantLocked(t, lo.Check(ctx, user, ip), time.Second) // RetryAfter is at least 1s
			clock.Advance(time.Millisecond)
		}
	}
	if err := lo.Success(ctx, user, ip); err != nil {
		t.Fatal(err)
	}
	if d, err := lo.Failure(ctx, user, ip); err != nil || d != 0 {
		t.Fatalf("first failure after a success: delay %v, %v; want 0", d, err)
	}
}

func wantLocked(t *testing.T, err error, retry time.Duration) {
	t.Helper()
	e, ok := err.(*imgmgr.Error)
	if !ok || e.Kind != imgmgr.KindRateLimited || e.Code != "login_locked" || !near(e.RetryAfter, retry) {
		t.Fatalf("Check = %v, want 429 login_locked with RetryAfter %v", err, retry)
	}
}

func testPairs(t *testing.T, newStore NewLockoutStore) {
	ctx := context.Background()
	clock := NewClock()
	lo, err := ratelimit.NewLockout(newStore(t, clock.Now), ratelimit.LockoutConfig{Free: 1, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		lo.Failure(ctx, "bob", "192.0.2.1")
	}
	if lo.Check(ctx, "bob", "192.0.2.1") == nil {
		t.Fatal("bob from 192.0.2.1 should be locked")
	}
	for _, p := range [][2]string{{"bob", "192.0.2.2"}, {"carol", "192.0.2.1"}} {
		if err := lo.Check(ctx, p[0], p[1]); err != nil {
			t.Errorf("Check(%s, %s) = %v; another pair's failures must not lock it", p[0], p[1], err)
		}
	}
}
