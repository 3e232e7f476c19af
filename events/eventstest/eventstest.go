// Package eventstest is the conformance suite every events.Bus runs.
package eventstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/events"
)

// NewPair returns two buses that share events (two replicas on one Redis),
// or the same bus twice for an in-process bus. Each call must return buses
// that share nothing with earlier calls' (e.g. a unique channel prefix).
type NewPair func(t *testing.T) (a, b events.Bus)

// Run checks the events.Bus contract.
func Run(t *testing.T, newPair NewPair) {
	t.Run("OwnEventsInOrder", func(t *testing.T) { testOwnEvents(t, newPair) })
	t.Run("AcrossBuses", func(t *testing.T) { testAcross(t, newPair) })
	t.Run("SeveralSubscribers", func(t *testing.T) { testSeveral(t, newPair) })
	t.Run("SlowConsumerDropped", func(t *testing.T) { testSlow(t, newPair) })
	t.Run("CloseSubscription", func(t *testing.T) { testCloseSub(t, newPair) })
	t.Run("CloseBus", func(t *testing.T) { testCloseBus(t, newPair) })
}

// wait is how long a delivery may take; no timing is asserted.
const wait = 10 * time.Second

func ev(user string, i int) imgmgr.Event {
	return imgmgr.Event{Type: imgmgr.EventUploadProgress, UserID: user, UploadID: "up", Offset: int64(i), Length: 100,
		Time: time.Unix(1700000000, 0).UTC()}
}

func subscribe(t *testing.T, b events.Bus, user string) *events.Subscription {
	t.Helper()
	s, err := b.Subscribe(context.Background(), user)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", user, err)
	}
	t.Cleanup(s.Close)
	return s
}

func publish(t *testing.T, b events.Bus, e imgmgr.Event) {
	t.Helper()
	if err := b.Publish(context.Background(), e); err != nil {
		t.Fatalf("Publish: %v", err)
	}
}

func next(t *testing.T, s *events.Subscription) imgmgr.Event {
	t.Helper()
	select {
	case e, ok := <-s.Events():
		if !ok {
			t.Fatalf("subscription ended: %v", s.Err())
		}
		return e
	case <-time.After(wait):
		t.Fatal("no event")
	}
	return imgmgr.Event{}
}

func testOwnEvents(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	alice := subscribe(t, a, "alice")
	bob := subscribe(t, a, "bob")
	for i := range 20 {
		publish(t, a, ev("alice", i))
	}
	publish(t, a, ev("bob", 99))
	for i := range 20 {
		if got := next(t, alice); got != ev("alice", i) {
			t.Fatalf("event %d: %+v, want %+v", i, got, ev("alice", i))
		}
	}
	if got := next(t, bob); got.Offset != 99 {
		t.Fatalf("bob got %+v", got)
	}
	// Bob's event never reaches alice: publish a marker and see it next.
	publish(t, a, ev("alice", 1000))
	if got := next(t, alice); got.Offset != 1000 {
		t.Fatalf("alice got %+v, want only her own events", got)
	}
	if err := a.Publish(context.Background(), imgmgr.Event{Type: "x"}); err == nil {
		t.Fatal("an event without a user was published")
	}
}

func testAcross(t *testing.T, newPair NewPair) {
	a, b := newPair(t)
	sa := subscribe(t, a, "carol")
	sb := subscribe(t, b, "carol")
	publish(t, b, ev("carol", 1))
	publish(t, a, ev("carol", 2))
	for _, s := range []*events.Subscription{sa, sb} {
		got := map[int64]bool{next(t, s).Offset: true, next(t, s).Offset: true}
		if !got[1] || !got[2] {
			t.Fatalf("got offsets %v, want 1 and 2 on both buses", got)
		}
	}
}

func testSeveral(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	s1 := subscribe(t, a, "dave")
	s2 := subscribe(t, a, "dave")
	publish(t, a, ev("dave", 7))
	if next(t, s1).Offset != 7 || next(t, s2).Offset != 7 {
		t.Fatal("each subscription gets every event")
	}
}

// A subscriber that does not read is dropped; Publish never waits for it
// and the other subscribers go on receiving. Events go in rounds of 10 that
// the reading subscriber takes before the next round, so its keeping up
// does not depend on speed (buffers must hold at least 10 events).
func testSlow(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	slow := subscribe(t, a, "erin")
	fast := subscribe(t, a, "erin")
	const n = 5000 // more than any sane buffer
	for i := 0; i < n; i += 10 {
		done := make(chan error, 1)
		go func() {
			for j := i; j < i+10; j++ {
				if err := a.Publish(context.Background(), ev("erin", j)); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(wait):
			t.Fatal("a publisher blocked on a slow subscriber")
		}
		for j := i; j < i+10; j++ {
			if got := next(t, fast); got.Offset != int64(j) {
				t.Fatalf("reading subscriber: event %d is %d", j, got.Offset)
			}
		}
	}
	count := 0
	for range slow.Events() { // drains what was buffered, then ends
		count++
	}
	if !errors.Is(slow.Err(), events.ErrSlowConsumer) || count >= n {
		t.Fatalf("slow subscriber: %d events, err %v; want dropped with ErrSlowConsumer", count, slow.Err())
	}
}

func testCloseSub(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	s := subscribe(t, a, "frank")
	keep := subscribe(t, a, "frank")
	s.Close()
	s.Close()
	publish(t, a, ev("frank", 1))
	next(t, keep)
	if _, ok := <-s.Events(); ok {
		t.Fatal("a closed subscription received an event")
	}
	if s.Err() != nil {
		t.Fatalf("Err after Close = %v, want nil", s.Err())
	}
}

func testCloseBus(t *testing.T, newPair NewPair) {
	a, _ := newPair(t)
	s := subscribe(t, a, "gina")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-s.Events():
		if ok {
			t.Fatal("event after Close")
		}
	case <-time.After(wait):
		t.Fatal("subscription not ended by Close")
	}
	if !errors.Is(s.Err(), events.ErrClosed) {
		t.Fatalf("Err = %v, want ErrClosed", s.Err())
	}
	if err := a.Publish(context.Background(), ev("gina", 1)); err == nil {
		t.Fatal("Publish on a closed bus succeeded")
	}
	if _, err := a.Subscribe(context.Background(), "gina"); err == nil {
		t.Fatal("Subscribe on a closed bus succeeded")
	}
}

// Unique returns a prefix unique to this test run, for shared services.
func Unique(t *testing.T) string {
	return fmt.Sprintf("imgmgr-test:%s:%d:", t.Name(), time.Now().UnixNano())
}
