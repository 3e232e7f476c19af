// Package locktest is the conformance suite of blob.KeyLocker, the way
// blobtest checks a blob.Store: every implementation runs it.
package locktest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/blob"
)

// Backend makes the lockers under test.
type Backend struct {
	// Open returns two lockers over one backend (two replicas, or twice
	// the same in-process set): what one holds, the other must wait for.
	Open func(t *testing.T) (a, b blob.KeyLocker)
	// Die, when set, makes a's holders die without unlocking (it stops
	// renewing): their locks must lapse within Lapse, and b then gets
	// them. Unset for implementations whose locks die with their process.
	Die   func(a blob.KeyLocker)
	Lapse time.Duration
}

// Run runs the suite.
func Run(t *testing.T, be Backend) {
	t.Run("Exclusion", func(t *testing.T) { testExclusion(t, be) })
	t.Run("IndependentKeys", func(t *testing.T) { testIndependentKeys(t, be) })
	t.Run("CancelWhileWaiting", func(t *testing.T) { testCancel(t, be) })
	t.Run("ManyHolders", func(t *testing.T) { testManyHolders(t, be) })
	if be.Die != nil {
		t.Run("DeadHolderLapses", func(t *testing.T) { testLapse(t, be) })
	}
}

func lock(t *testing.T, l blob.KeyLocker, key string) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	unlock, err := l.Lock(ctx, key)
	if err != nil {
		t.Fatalf("Lock(%q): %v", key, err)
	}
	return unlock
}

// While a holds the key, b waits; once a unlocks, b gets it.
func testExclusion(t *testing.T, be Backend) {
	a, b := be.Open(t)
	unlock := lock(t, a, "k")
	got := make(chan func())
	go func() {
		u, err := b.Lock(context.Background(), "k")
		if err != nil {
			t.Errorf("waiting Lock: %v", err)
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("b took the key while a held it")
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		if u != nil {
			u()
		}
	case <-time.After(5 * time.Second):
		t.Fatal("b did not get the key after a unlocked it")
	}
}

// Holding one key does not block another.
func testIndependentKeys(t *testing.T, be Backend) {
	a, b := be.Open(t)
	u1 := lock(t, a, "k1")
	defer u1()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	u2, err := b.Lock(ctx, "k2")
	if err != nil {
		t.Fatalf("another key: %v", err)
	}
	u2()
}

// A waiter whose context ends gives up with ctx.Err(), and the key stays
// usable.
func testCancel(t *testing.T, be Backend) {
	a, b := be.Open(t)
	unlock := lock(t, a, "k")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := b.Lock(ctx, "k"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with an ending context: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("giving up took %v", d)
	}
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if _, err := b.Lock(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock with a cancelled context: %v, want context.Canceled", err)
	}
	unlock()
	lock(t, b, "k")()
}

// Holders through both lockers never overlap.
func testManyHolders(t *testing.T, be Backend) {
	a, b := be.Open(t)
	var inside, overlaps atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				unlock, err := l.Lock(context.Background(), "k")
				if err != nil {
					t.Errorf("Lock: %v", err)
					return
				}
				if inside.Add(1) > 1 {
					overlaps.Add(1)
				}
				time.Sleep(time.Millisecond)
				inside.Add(-1)
				unlock()
			}
		}()
	}
	wg.Wait()
	if n := overlaps.Load(); n > 0 {
		t.Fatalf("%d overlapping holders", n)
	}
}

// A holder that dies without unlocking loses the key after the lapse.
func testLapse(t *testing.T, be Backend) {
	a, b := be.Open(t)
	lock(t, a, "k") // never unlocked
	be.Die(a)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), be.Lapse+5*time.Second)
	defer cancel()
	unlock, err := b.Lock(ctx, "k")
	if err != nil {
		t.Fatalf("after the holder died: %v", err)
	}
	unlock()
	t.Logf("the dead holder's lock lapsed after %v (lapse %v)", time.Since(start).Round(time.Millisecond), be.Lapse)
}
