// Package events carries events a user may want to see live (upload
// progress, completion, scan results, rendered variants) from where they
// happen to that user's open connections.
//
// Bus is the contract; Local (here) serves one process, cluster.Bus shares
// events between replicas through Redis Pub/Sub, and both deliver through a
// Hub, which never lets a slow subscriber block a publisher: a subscriber
// whose buffer is full is dropped. The conformance suite is eventstest.
package events

import (
	"context"
	"errors"
	"sync"

	"github.com/imgmgr/imgmgr"
)

// Bus publishes events and subscribes to one user's events.
// Implementations are safe for concurrent use.
type Bus interface {
	// Publish delivers ev to the subscribers of ev.UserID, in every process
	// sharing the bus. It does not wait for subscribers. An event without a
	// UserID is refused.
	Publish(ctx context.Context, ev imgmgr.Event) error
	// Subscribe returns a subscription to the events of userID, effective
	// when Subscribe returns. The caller closes it.
	Subscribe(ctx context.Context, userID string) (*Subscription, error)
	// Close stops the bus and closes every subscription.
	Close() error
}

// ErrSlowConsumer is the Err of a subscription dropped because it did not
// keep up.
var ErrSlowConsumer = errors.New("events: subscriber too slow; dropped")

// ErrClosed is returned by a closed bus and is the Err of its subscriptions.
var ErrClosed = errors.New("events: bus closed")

// ErrDisconnected is the Err of a subscription ended because the bus lost
// the connection that carries other processes' events: its subscriber
// would miss events, so it is told to subscribe again later.
var ErrDisconnected = errors.New("events: bus disconnected; subscribe again")

// Subscription receives the events of one user in publication order (per
// publisher). Events is closed when the subscription ends; Err says why.
type Subscription struct {
	ch     chan imgmgr.Event
	hub    *Hub
	userID string
	once   sync.Once
	err    error // set before ch is closed
}

// Events is the channel of events; it is closed when the subscription ends.
func (s *Subscription) Events() <-chan imgmgr.Event { return s.ch }

// Err is why the subscription ended: nil after Close, ErrSlowConsumer,
// ErrDisconnected or ErrClosed. Valid once Events is closed.
func (s *Subscription) Err() error { return s.err }

// Close ends the subscription. Safe to call more than once.
func (s *Subscription) Close() { s.hub.remove(s, nil) }

// Hub fans events out to the subscriptions of this process.
type Hub struct {
	buffer int
	mu     sync.Mutex
	subs   map[string]map[*Subscription]struct{}
	closed bool
}

// NewHub returns a hub whose subscriptions buffer up to buffer events
// (default 256 when buffer <= 0).
func NewHub(buffer int) *Hub {
	if buffer <= 0 {
		buffer = 256
	}
	return &Hub{buffer: buffer, subs: map[string]map[*Subscription]struct{}{}}
}

// Subscribe adds a subscription to userID's events.
func (h *Hub) Subscribe(userID string) (*Subscription, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	s := &Subscription{ch: make(chan imgmgr.Event, h.buffer), hub: h, userID: userID}
	if h.subs[userID] == nil {
		h.subs[userID] = map[*Subscription]struct{}{}
	}
	h.subs[userID][s] = struct{}{}
	return s, nil
}

// Deliver hands ev to its user's subscriptions without blocking, dropping
// any whose buffer is full.
func (h *Hub) Deliver(ev imgmgr.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[ev.UserID] {
		select {
		case s.ch <- ev:
		default:
			h.removeLocked(s, ErrSlowConsumer)
		}
	}
}

// Drop ends every subscription with err; the hub stays open for new ones.
func (h *Hub) Drop(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for s := range set {
			h.removeLocked(s, err)
		}
	}
}

// Close ends every subscription with ErrClosed.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, set := range h.subs {
		for s := range set {
			h.removeLocked(s, ErrClosed)
		}
	}
}

func (h *Hub) remove(s *Subscription, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s, err)
}

func (h *Hub) removeLocked(s *Subscription, err error) {
	s.once.Do(func() {
		if set := h.subs[s.userID]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(h.subs, s.userID)
			}
		}
		s.err = err
		close(s.ch)
	})
}

// Local is the in-process bus.
type Local struct{ hub *Hub }

var _ Bus = (*Local)(nil)

// LocalConfig configures Local.
type LocalConfig struct {
	Buffer int // events buffered per subscription before it is dropped; default 256
}

// Validate checks the config.
func (c LocalConfig) Validate() error {
	if c.Buffer < 0 {
		return errors.New("events: buffer must be positive")
	}
	return nil
}

// NewLocal returns an in-process bus.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Local{hub: NewHub(cfg.Buffer)}, nil
}

// Publish implements Bus.
func (b *Local) Publish(ctx context.Context, ev imgmgr.Event) error {
	if ev.UserID == "" {
		return ErrNoUser
	}
	b.hub.mu.Lock()
	closed := b.hub.closed
	b.hub.mu.Unlock()
	if closed {
		return ErrClosed
	}
	b.hub.Deliver(ev)
	return nil
}

// ErrNoUser refuses an event that names no user.
var ErrNoUser = errors.New("events: event without a user id")

// Subscribe implements Bus.
func (b *Local) Subscribe(ctx context.Context, userID string) (*Subscription, error) {
	return b.hub.Subscribe(userID)
}

// Close implements Bus.
func (b *Local) Close() error {
	b.hub.Close()
	return nil
}
