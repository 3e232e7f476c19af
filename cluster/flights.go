package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// FlightsConfig configures the render leases.
type FlightsConfig struct {
	// TTL is how long a dead renderer's lease outlives it; default 3s, at
	// least 1s. Held leases are renewed every TTL/3; a waiter checks for a
	// lapsed lease every TTL/4.
	TTL time.Duration
}

// Flights elects one renderer of a variant cache key across replicas (the
// delivery.Flights contract): the leader holds a lease
// (Prefix+"flight:"+key); waiters hear of its end on one Pub/Sub channel
// (Prefix+"flights") shared by every Wait of the process. Safe for
// concurrent use.
type Flights struct {
	c       *Client
	opts    leaseOpts
	check   time.Duration // how often a waiter looks for a lapsed lease
	channel string
	ps      *redis.PubSub
	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{}
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// NewFlights subscribes to the notification channel and returns the
// elector; Close ends it.
func (c *Client) NewFlights(ctx context.Context, cfg FlightsConfig) (*Flights, error) {
	if cfg.TTL != 0 && cfg.TTL < time.Second {
		return nil, errors.New("cluster: the render lease TTL must be at least 1s")
	}
	def(&cfg.TTL, 3*time.Second)
	f := &Flights{c: c, check: cfg.TTL / 4, channel: c.prefix + "flights",
		waiters: map[string]map[chan struct{}]struct{}{}, quit: make(chan struct{}), done: make(chan struct{})}
	f.opts = leaseOpts{ttl: cfg.TTL, renewEvery: cfg.TTL / 3, notify: f.channel, quit: f.quit}
	f.ps = c.rdb.Subscribe(ctx, f.channel)
	if _, err := f.ps.Receive(ctx); err != nil {
		f.ps.Close()
		return nil, c.wrap("cluster.NewFlights", err)
	}
	go f.run(f.ps.Channel(redis.WithChannelSize(1024)))
	return f, nil
}

func (f *Flights) leaseKey(key string) string { return f.c.prefix + "flight:" + key }

// run wakes the waiters of each key whose leader is done.
func (f *Flights) run(ch <-chan *redis.Message) {
	defer close(f.done)
	for msg := range ch {
		f.wake(msg.Payload)
	}
}

func (f *Flights) wake(leaseKey string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.waiters[leaseKey] {
		close(w)
	}
	delete(f.waiters, leaseKey)
}

// Lead tries to take the render lease of key. ok: this replica renders and
// must call done(stored) once the render is in the shared cache (true) or
// failed (false); done releases the lease if it still holds it and wakes
// the waiters. !ok: another replica renders. err (KindUnavailable): Redis
// cannot be asked; the caller renders locally.
func (f *Flights) Lead(ctx context.Context, key string) (done func(stored bool), ok bool, err error) {
	l, ok, err := f.c.tryLease(ctx, f.leaseKey(key), f.opts)
	if err != nil || !ok {
		return nil, false, f.c.wrap("cluster.Flights.Lead", err)
	}
	var once sync.Once
	return func(bool) { once.Do(func() { l.releaseSoon() }) }, true, nil
}

// Wait blocks until the leader of key calls done, its lease lapses, or ctx
// ends (ctx.Err()). It registers before it looks at the lease, so a done
// between the caller's failed Lead and Wait is not missed; a lease whose
// holder died (or a notification lost while Redis reconnected) is noticed
// by looking again every TTL/4. nil means: look in the cache, then Lead
// again. A KindUnavailable error means Redis cannot be asked: the caller
// renders locally.
func (f *Flights) Wait(ctx context.Context, key string) error {
	lk := f.leaseKey(key)
	w := f.register(lk)
	defer f.unregister(lk, w)
	t := time.NewTicker(f.check)
	defer t.Stop()
	for {
		n, err := f.c.rdb.Exists(ctx, lk).Result()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			return f.c.wrap("cluster.Flights.Wait", err)
		case n == 0:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w:
			return nil
		case <-t.C:
		}
	}
}

func (f *Flights) register(lk string) chan struct{} {
	w := make(chan struct{})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.waiters[lk] == nil {
		f.waiters[lk] = map[chan struct{}]struct{}{}
	}
	f.waiters[lk][w] = struct{}{}
	return w
}

func (f *Flights) unregister(lk string, w chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if set := f.waiters[lk]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(f.waiters, lk)
		}
	}
}

// Close stops renewing the leases still held (they lapse after TTL, as if
// this replica died: call done first for a prompt hand-over) and ends the
// subscription. It leaves the Client open.
func (f *Flights) Close() error {
	var err error
	f.once.Do(func() {
		close(f.quit)
		err = f.ps.Close()
		<-f.done
	})
	return err
}
