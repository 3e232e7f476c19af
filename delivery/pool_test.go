package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
)

func testPool(t *testing.T, slots, queue int) *pool {
	t.Helper()
	m, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	return newPool(slots, queue, time.Minute, m)
}

// blocker is a render that starts, signals, and waits to be released.
func blocker(started chan<- string, release <-chan struct{}, name string) func(context.Context) (*rendered, error) {
	return func(context.Context) (*rendered, error) {
		started <- name
		<-release
		return &rendered{body: []byte(name)}, nil
	}
}

// A full queue answers 503 with Retry-After at once.
func TestPoolQueueFull(t *testing.T) {
	p := testPool(t, 1, 1)
	started, release := make(chan string, 4), make(chan struct{})
	done := make(chan error, 2)
	go func() {
		_, err := p.do(context.Background(), "a", "jpeg", time.Second, blocker(started, release, "a"))
		done <- err
	}()
	<-started // "a" holds the only slot
	go func() {
		_, err := p.do(context.Background(), "b", "jpeg", time.Second, blocker(started, release, "b"))
		done <- err
	}()
	for { // wait until "b" is queued
		p.mu.Lock()
		w := p.waiting
		p.mu.Unlock()
		if w == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	_, err := p.do(context.Background(), "c", "jpeg", 3*time.Second, blocker(started, release, "c"))
	var e *imgmgr.Error
	if imgmgr.KindOf(err) != imgmgr.KindUnavailable || !asError(err, &e) || e.RetryAfter != 3*time.Second {
		t.Fatalf("third render: %v, want 503 with Retry-After 3s", err)
	}
	close(release)
	for range 2 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// A render whose every client left before it got a slot never runs.
func TestPoolAbandoned(t *testing.T) {
	p := testPool(t, 1, 4)
	started, release := make(chan string, 4), make(chan struct{})
	go p.do(context.Background(), "a", "jpeg", time.Second, blocker(started, release, "a"))
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := p.do(ctx, "b", "jpeg", time.Second, blocker(started, release, "b")); errc <- err }()
	for {
		p.mu.Lock()
		f := p.flights["b"]
		joined := f != nil && f.waiters == 1
		p.mu.Unlock()
		if joined {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("left client: %v", err)
	}
	close(release)
	for { // wait for both flights to finish
		p.mu.Lock()
		n := len(p.flights)
		p.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case name := <-started:
		t.Errorf("render %q ran with no client waiting", name)
	default:
	}
}

func asError(err error, target **imgmgr.Error) bool {
	e, ok := err.(*imgmgr.Error)
	*target = e
	return ok
}
