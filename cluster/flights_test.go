package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

func newFlights(t *testing.T, c *Client, ttl time.Duration) *Flights {
	t.Helper()
	f, err := c.NewFlights(context.Background(), FlightsConfig{TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// twoReplicas returns two Flights over two clients with one prefix.
func twoReplicas(t *testing.T, ttl time.Duration) (*Flights, *Flights) {
	url, prefix := testenv.RedisURL(t), uniquePrefix(t)
	return newFlights(t, open(t, url, prefix), ttl), newFlights(t, open(t, url, prefix), ttl)
}

// waitAsync runs Wait in the background.
func waitAsync(f *Flights, ctx context.Context, key string) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f.Wait(ctx, key) }()
	return ch
}

// One replica leads, the other waits and is released by done, well before
// the lease would lapse.
func TestFlightsLeaderReleasesWaiter(t *testing.T) {
	a, b := twoReplicas(t, 10*time.Second)
	ctx := context.Background()
	done, ok, err := a.Lead(ctx, "v1")
	if err != nil || !ok {
		t.Fatalf("first Lead: ok=%v err=%v", ok, err)
	}
	if _, ok, err := b.Lead(ctx, "v1"); err != nil || ok {
		t.Fatalf("second Lead while held: ok=%v err=%v, want !ok", ok, err)
	}
	if _, ok, err := b.Lead(ctx, "v2"); err != nil || !ok {
		t.Fatalf("another key: ok=%v err=%v", ok, err)
	}
	waited := waitAsync(b, ctx, "v1")
	select {
	case err := <-waited:
		t.Fatalf("Wait returned while the leader renders: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	start := time.Now()
	done(true)
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("the waiter was released %v after done", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("done did not release the waiter")
	}
	if _, ok, err := b.Lead(ctx, "v1"); err != nil || !ok {
		t.Fatalf("Lead after done: ok=%v err=%v", ok, err)
	}
	done(true) // a second call is harmless
}

// Wait after the leader is already done returns at once.
func TestFlightsWaitAfterDone(t *testing.T) {
	a, b := twoReplicas(t, 3*time.Second)
	done, ok, _ := a.Lead(context.Background(), "v")
	if !ok {
		t.Fatal("no lead")
	}
	done(false)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx, "v"); err != nil {
		t.Fatal(err)
	}
}

// A leader that stops renewing (its replica died) lets the waiter take
// over once the lease lapses.
func TestFlightsDeadLeaderLapses(t *testing.T) {
	a, b := twoReplicas(t, time.Second)
	ctx := context.Background()
	if _, ok, err := a.Lead(ctx, "v"); err != nil || !ok {
		t.Fatalf("Lead: ok=%v err=%v", ok, err)
	}
	time.Sleep(1500 * time.Millisecond) // renewals keep it past its TTL
	if _, ok, _ := b.Lead(ctx, "v"); ok {
		t.Fatal("the lease lapsed while its leader renewed it")
	}
	a.Close() // the leader dies without calling done
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.Wait(wctx, "v"); err != nil {
		t.Fatal(err)
	}
	t.Logf("the dead leader's lease lapsed %v after it died (TTL 1s)", time.Since(start).Round(time.Millisecond))
	done, ok, err := b.Lead(ctx, "v")
	if err != nil || !ok {
		t.Fatalf("taking over: ok=%v err=%v", ok, err)
	}
	done(true)
}

// Wait gives up with ctx.Err() when its context ends.
func TestFlightsWaitContext(t *testing.T) {
	a, b := twoReplicas(t, 10*time.Second)
	if _, ok, _ := a.Lead(context.Background(), "v"); !ok {
		t.Fatal("no lead")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := b.Wait(ctx, "v"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait: %v, want DeadlineExceeded", err)
	}
}

// With Redis cut off, Lead fails fast with KindUnavailable.
func TestFlightsRedisDown(t *testing.T) {
	p := testenv.RedisProxy(t)
	f := newFlights(t, open(t, p.URL(), uniquePrefix(t)), time.Second)
	p.Cut()
	for range 3 {
		start := time.Now()
		_, ok, err := f.Lead(context.Background(), "v")
		mustUnavailable(t, "Lead with Redis down", err)
		if ok || time.Since(start) > time.Second {
			t.Fatalf("Lead: ok=%v after %v", ok, time.Since(start))
		}
	}
	mustUnavailable(t, "Wait with Redis down", f.Wait(context.Background(), "v"))
}
