package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/events/eventstest"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// newBus starts one replica's bus over its own client.
func newBus(t *testing.T, c *Client) *Bus {
	t.Helper()
	b, err := c.NewBus(context.Background(), BusConfig{Buffer: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Two clients with one prefix stand for two replicas.
func TestBusConformance(t *testing.T) {
	url := testenv.RedisURL(t)
	eventstest.Run(t, func(t *testing.T) (events.Bus, events.Bus) {
		prefix := eventstest.Unique(t)
		return newBus(t, open(t, url, prefix)), newBus(t, open(t, url, prefix))
	})
}

func TestBusConfigValidate(t *testing.T) {
	if (BusConfig{Buffer: -1}).Validate() == nil {
		t.Error("a negative buffer was accepted")
	}
}

// Buses with different prefixes do not see each other's events.
func TestBusPrefixesIsolate(t *testing.T) {
	url := testenv.RedisURL(t)
	a := newBus(t, open(t, url, eventstest.Unique(t)+"a:"))
	b := newBus(t, open(t, url, eventstest.Unique(t)+"b:"))
	sb, _ := b.Subscribe(context.Background(), "u")
	defer sb.Close()
	sa, _ := a.Subscribe(context.Background(), "u")
	defer sa.Close()
	a.Publish(context.Background(), progressEvent("u", 1))
	b.Publish(context.Background(), progressEvent("u", 2))
	if e := recv(t, sb); e.Offset != 2 {
		t.Fatalf("bus b got %+v from bus a", e)
	}
	if e := recv(t, sa); e.Offset != 1 {
		t.Fatalf("bus a got %+v", e)
	}
}

func progressEvent(user string, off int64) imgmgr.Event {
	return imgmgr.Event{Type: imgmgr.EventUploadProgress, UserID: user, Offset: off}
}

func recv(t *testing.T, s *events.Subscription) imgmgr.Event {
	t.Helper()
	select {
	case e := <-s.Events():
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
	return imgmgr.Event{}
}

// With Redis cut off, Publish and Subscribe fail fast with KindUnavailable
// and open subscriptions end with events.ErrDisconnected; once Redis is
// back, events flow again.
func TestBusRedisDown(t *testing.T) {
	p := testenv.RedisProxy(t)
	b := newBus(t, open(t, p.URL(), uniquePrefix(t)))
	ctx := context.Background()
	sub, err := b.Subscribe(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	p.Cut()
	start := time.Now()
	mustUnavailable(t, "Publish with Redis cut", b.Publish(ctx, progressEvent("u", 1)))
	select {
	case _, ok := <-sub.Events():
		if ok || !errors.Is(sub.Err(), events.ErrDisconnected) {
			t.Fatalf("subscription after the cut: open=%v err=%v", ok, sub.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the subscription outlived the outage")
	}
	t.Logf("the open subscription ended %v after the cut", time.Since(start))
	start = time.Now()
	_, err = b.Subscribe(ctx, "u")
	mustUnavailable(t, "Subscribe while down", err)
	t.Logf("Subscribe while down failed in %v", time.Since(start))
	p.Restore()
	waitFor(t, 5*time.Second, "recovery", b.c.Available)
	sub, err = b.Subscribe(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// The Pub/Sub connection comes back on its own schedule; publish until
	// an event arrives.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b.Publish(ctx, progressEvent("u", 2))
		select {
		case e := <-sub.Events():
			if e.Offset == 2 {
				t.Logf("events flow again %v after the restore", time.Since(start))
				return
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("no event after Redis came back")
}
