package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A lease is a key held by one holder: SET NX PX with a random token, kept
// alive by the holder renewing its time to live, and released only by the
// holder of the token. A holder that dies stops renewing, and its lease
// lapses after TTL. Upload locks, content-address locks and render leases
// are leases.

var (
	renewScript = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) end return 0`)
	// releaseScript deletes the key if it holds the token and then, when
	// a channel is given, publishes the key there, in one step: a waiter
	// that subscribed and then saw the key still held is sure to hear.
	releaseScript = redis.NewScript(`if redis.call("get", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("del", KEYS[1])
if ARGV[2] ~= "" then redis.call("publish", ARGV[2], KEYS[1]) end
return 1`)
)

// lease is a held key.
type lease struct {
	c      *Client
	key    string
	token  string
	ttl    time.Duration
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
	notify string // channel published on release; "" = none
}

// leaseOpts are the timing of a kind of lease.
type leaseOpts struct {
	ttl, renewEvery time.Duration
	notify          string        // channel published on release
	quit            chan struct{} // closed: stop renewing (the holder "dies")
}

// tryLease takes key if it is free. ok is false when another holder has it.
func (c *Client) tryLease(ctx context.Context, key string, o leaseOpts) (l *lease, ok bool, err error) {
	b := make([]byte, 16)
	rand.Read(b)
	l = &lease{c: c, key: key, token: hex.EncodeToString(b), ttl: o.ttl, notify: o.notify,
		stop: make(chan struct{}), done: make(chan struct{})}
	ok, err = c.rdb.SetNX(ctx, key, l.token, o.ttl).Result()
	if err != nil || !ok {
		return nil, false, err
	}
	go l.renew(o.renewEvery, o.quit)
	return l, true, nil
}

// renew extends the lease every period until it is released, lost (its
// key expired or was taken: renewing would steal it) or quit is closed.
// A failed renewal (Redis briefly unreachable) is retried at the next tick;
// the lease holds as long as one renewal lands within each TTL.
func (l *lease) renew(every time.Duration, quit chan struct{}) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		n, err := renewScript.Run(ctx, l.c.rdb, []string{l.key}, l.token, l.ttl.Milliseconds()).Int()
		cancel()
		if err == nil && n == 0 {
			return
		}
	}
}

// release stops renewing and deletes the key if it still holds the token;
// held reports whether it did.
func (l *lease) release(ctx context.Context) (held bool, err error) {
	l.once.Do(func() { close(l.stop) })
	<-l.done
	n, err := releaseScript.Run(ctx, l.c.rdb, []string{l.key}, l.token, l.notify).Int()
	return n == 1, err
}

// releaseSoon is release with its own short deadline, for unlock functions
// whose callers have no context (and may have a cancelled one).
func (l *lease) releaseSoon() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return l.release(ctx)
}
