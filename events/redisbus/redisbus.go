// Package redisbus is the events.Bus shared by replicas through Redis
// Pub/Sub. Every replica subscribes to one channel and delivers to its own
// subscribers through an events.Hub; Redis Pub/Sub keeps no history, so an
// event published while a replica is reconnecting is lost to it (events are
// live progress, not a log).
package redisbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/events"
)

// Config configures the bus.
type Config struct {
	URL    string // redis://[user:password@]host:port/db; required
	Prefix string // channel name prefix; default "imgmgr:"; the channel is Prefix+"events"
	Buffer int    // events buffered per subscription before it is dropped; default 256
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("redisbus: redis.url is required")
	}
	if _, err := redis.ParseURL(c.URL); err != nil {
		return fmt.Errorf("redisbus: redis.url: %w", err)
	}
	if c.Buffer < 0 {
		return errors.New("redisbus: buffer must be positive")
	}
	return nil
}

// Bus is an events.Bus over Redis Pub/Sub.
type Bus struct {
	client  *redis.Client
	ps      *redis.PubSub
	hub     *events.Hub
	channel string
	done    chan struct{}
	once    sync.Once
	mu      sync.RWMutex
	closed  bool
}

var _ events.Bus = (*Bus)(nil)

// New connects, subscribes and returns the bus; events published anywhere
// on the channel after New returns are delivered.
func New(ctx context.Context, cfg Config) (*Bus, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "imgmgr:"
	}
	opt, _ := redis.ParseURL(cfg.URL)
	client := redis.NewClient(opt)
	b := &Bus{client: client, hub: events.NewHub(cfg.Buffer), channel: cfg.Prefix + "events", done: make(chan struct{})}
	b.ps = client.Subscribe(ctx, b.channel)
	if _, err := b.ps.Receive(ctx); err != nil { // the subscription is confirmed
		b.ps.Close()
		client.Close()
		return nil, fmt.Errorf("redisbus: subscribing: %w", err)
	}
	go b.run(b.ps.Channel(redis.WithChannelSize(1024)))
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

// Publish implements events.Bus.
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
		return imgmgr.Internal("redisbus.Publish", err)
	}
	if err := b.client.Publish(ctx, b.channel, data).Err(); err != nil {
		return imgmgr.Internal("redisbus.Publish", err)
	}
	return nil
}

// Subscribe implements events.Bus.
func (b *Bus) Subscribe(ctx context.Context, userID string) (*events.Subscription, error) {
	return b.hub.Subscribe(userID)
}

// Ping checks the connection (readiness).
func (b *Bus) Ping(ctx context.Context) error { return b.client.Ping(ctx).Err() }

// Close implements events.Bus.
func (b *Bus) Close() error {
	var err error
	b.once.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		err = b.ps.Close()
		<-b.done
		b.hub.Close()
		if cerr := b.client.Close(); err == nil {
			err = cerr
		}
	})
	return err
}
