package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/imgmgr/imgmgr/blob"
)

// KeyLocksConfig configures the content-address locks.
type KeyLocksConfig struct {
	TTL        time.Duration // lapse of a dead holder's lock; default 3s, at least 1s
	RenewEvery time.Duration // default TTL/3
	// PollEvery is the longest pause between tries of a waiter; default
	// 50ms. Waits start at a fifth of it and double.
	PollEvery time.Duration
}

// KeyLocks is the blob.KeyLocker shared by replicas: a lease per key
// (Prefix+"keylock:"+key). A waiter polls with a short, growing pause: these
// locks are held for the length of a blob write or delete, and polling
// needs no subscription per waiter. Safe for concurrent use.
type KeyLocks struct {
	c    *Client
	opts leaseOpts
	poll time.Duration
	quit chan struct{}
}

var _ blob.KeyLocker = (*KeyLocks)(nil)

// NewKeyLocks returns the locker; it does not contact Redis.
func (c *Client) NewKeyLocks(cfg KeyLocksConfig) (*KeyLocks, error) {
	if (cfg.TTL != 0 && cfg.TTL < time.Second) || cfg.RenewEvery < 0 || cfg.PollEvery < 0 {
		return nil, errors.New("cluster: key locks need a TTL of at least 1s and positive periods")
	}
	def(&cfg.TTL, 3*time.Second)
	if cfg.RenewEvery == 0 || cfg.RenewEvery > cfg.TTL/2 {
		cfg.RenewEvery = cfg.TTL / 3
	}
	def(&cfg.PollEvery, 50*time.Millisecond)
	q := make(chan struct{})
	return &KeyLocks{c: c, poll: cfg.PollEvery, quit: q,
		opts: leaseOpts{ttl: cfg.TTL, renewEvery: cfg.RenewEvery, quit: q}}, nil
}

// Lock implements blob.KeyLocker. While Redis is unreachable it fails at
// once with KindUnavailable.
func (k *KeyLocks) Lock(ctx context.Context, key string) (func(), error) {
	pause := k.poll / 5
	for {
		l, ok, err := k.c.tryLease(ctx, k.c.prefix+"keylock:"+key, k.opts)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, k.c.wrap("cluster.KeyLocks.Lock", err)
		}
		if ok {
			return func() { l.releaseSoon() }, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, k.poll)
	}
}

// Close stops renewing the locks still held, which then lapse after TTL:
// what a crash does. Unlock before Close for a prompt hand-over.
func (k *KeyLocks) Close() error {
	select {
	case <-k.quit:
	default:
		close(k.quit)
	}
	return nil
}
