package redisbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/events/eventstest"
	"github.com/imgmgr/imgmgr/events/redisbus"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// newBus connects one replica's bus to the real Redis.
func newBus(t *testing.T, url, prefix string) *redisbus.Bus {
	t.Helper()
	b, err := redisbus.New(context.Background(), redisbus.Config{URL: url, Prefix: prefix, Buffer: 64})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// Two buses on one Redis with a unique prefix stand for two replicas.
func TestRedisConformance(t *testing.T) {
	url := testenv.RedisURL(t)
	eventstest.Run(t, func(t *testing.T) (events.Bus, events.Bus) {
		prefix := eventstest.Unique(t)
		return newBus(t, url, prefix), newBus(t, url, prefix)
	})
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []redisbus.Config{{}, {URL: "http://x"}, {URL: "redis://127.0.0.1:6379", Buffer: -1}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

// Buses with different prefixes do not see each other's events.
func TestPrefixesIsolate(t *testing.T) {
	url := testenv.RedisURL(t)
	a := newBus(t, url, eventstest.Unique(t)+"a:")
	b := newBus(t, url, eventstest.Unique(t)+"b:")
	sb, _ := b.Subscribe(context.Background(), "u")
	defer sb.Close()
	sa, _ := a.Subscribe(context.Background(), "u")
	defer sa.Close()
	a.Publish(context.Background(), eventstestEvent("u", 1))
	b.Publish(context.Background(), eventstestEvent("u", 2))
	if e := recv(t, sb); e.Offset != 2 {
		t.Fatalf("bus b got %+v from bus a", e)
	}
	if e := recv(t, sa); e.Offset != 1 {
		t.Fatalf("bus a got %+v", e)
	}
}

func eventstestEvent(user string, off int64) imgmgr.Event {
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
