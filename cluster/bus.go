package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/events"
)

// BusConfig configures the event bus.
type BusConfig struct {
	Buffer int // events buffered per subscription before it is dropped; default 256
}

// Validate checks the config.
func (c BusConfig) Validate() error {
	if c.Buffer < 0 {
		return errors.New("cluster: bus buffer must be positive")
	}
	return nil
}

// Bus is the events.Bus shared by replicas through Redis Pub/Sub. Every
// replica subscribes to one channel (Prefix+"events") and delivers to its
// own subscribers through an events.Hub; Redis Pub/Sub keeps no history, so
// an event published while a replica is reconnecting is lost to it (events
// are live progress, not a log).
type Bus struct {
	c       *Client
	ps      *redis.PubSub
	hub     *events.Hub
	channel string
	done    chan struct{}
	once    sync.Once
	mu      sync.RWMutex
	closed  bool
}

var _ events.Bus = (*Bus)(nil)

// NewBus subscribes and returns the bus; events published anywhere on the
// channel after NewBus returns are delivered.
func (c *Client) NewBus(ctx context.Context, cfg BusConfig) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := &Bus{c: c, hub: events.NewHub(cfg.Buffer), channel: c.prefix + "events", done: make(chan struct{})}
	b.ps = c.rdb.Subscribe(ctx, b.channel)
	if _, err := b.ps.Receive(ctx); err != nil { // the subscription is confirmed
		b.ps.Close()
		return nil, c.wrap("cluster.NewBus", err)
	}
	go b.run(b.ps.Channel(redis.WithChannelSize(1024)))
	c.br.notify(func() { b.hub.Drop(events.ErrDisconnected) })
	return b, nil
}

func (b *Bus) run(ch <-chan *redis.Message) {
	defer close(b.done)
	for msg := range ch {
		var ev imgmgr.Event
		if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil || ev.UserID == "" {
			continue // not ours
		}
		b.hub.Deliver(ev)
	}
}

// Publish implements events.Bus. While Redis is unreachable it fails at
// once with KindUnavailable.
func (b *Bus) Publish(ctx context.Context, ev imgmgr.Event) error {
	if ev.UserID == "" {
		return events.ErrNoUser
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return events.ErrClosed
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return imgmgr.Internal("cluster.Bus.Publish", err)
	}
	return b.c.wrap("cluster.Bus.Publish", b.c.rdb.Publish(ctx, b.channel, data).Err())
}

// Subscribe implements events.Bus. While Redis is unreachable it fails at
// once with KindUnavailable, and an outage ends the subscriptions open at
// the time with events.ErrDisconnected: their subscribers would miss the
// other replicas' events, so the events WebSocket tells its clients to come
// back later.
func (b *Bus) Subscribe(ctx context.Context, userID string) (*events.Subscription, error) {
	if !b.c.Available() {
		return nil, b.c.br.refuse("subscribe")
	}
	return b.hub.Subscribe(userID)
}

// Close implements events.Bus. It leaves the Client open.
func (b *Bus) Close() error {
	var err error
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		err = b.ps.Close()
		<-b.done
		b.hub.Close()
	})
	return err
}
