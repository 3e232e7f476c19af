// Package redislock is a tus.Locker over Redis, for replicas that share a
// staging store: SET NX with a random token and a time to live that the
// holder renews while it holds the lock, so the lock of a process that dies
// lapses after TTL. Release deletes the key only if it still holds the
// holder's token.
package redislock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
)

// Config configures the locker.
type Config struct {
	URL    string        // redis://host:port/db; required
	Prefix string        // key prefix; default "imgmgr:"; keys are Prefix+"tuslock:"+id
	TTL    time.Duration // lapse of an unrenewed lock; default 10s, at least 1s
	// RenewEvery is how often a holder renews its lock; default TTL/3.
	// Renewing more often tolerates longer scheduling stalls.
	RenewEvery time.Duration
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("redislock: redis.url is required")
	}
	if _, err := redis.ParseURL(c.URL); err != nil {
		return fmt.Errorf("redislock: redis.url: %w", err)
	}
	if c.TTL != 0 && c.TTL < time.Second {
		return errors.New("redislock: the TTL must be at least 1s")
	}
	return nil
}

// Locker is a tus.Locker over Redis. Safe for concurrent use.
type Locker struct {
	client *redis.Client
	prefix string
	ttl    time.Duration
	every  time.Duration // renewal period
}

// New connects to Redis.
func New(ctx context.Context, cfg Config) (*Locker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "imgmgr:"
	}
	if cfg.TTL == 0 {
		cfg.TTL = 10 * time.Second
	}
	opt, _ := redis.ParseURL(cfg.URL)
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redislock: %w", err)
	}
	if cfg.RenewEvery <= 0 || cfg.RenewEvery > cfg.TTL/2 {
		cfg.RenewEvery = cfg.TTL / 3
	}
	return &Locker{client: c, prefix: cfg.Prefix + "tuslock:", ttl: cfg.TTL, every: cfg.RenewEvery}, nil
}

// Close closes the connection.
func (l *Locker) Close() error { return l.client.Close() }

var (
	renew   = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("pexpire", KEYS[1], ARGV[2]) end return 0`)
	release = redis.NewScript(`if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end return 0`)
)

// TryLock takes the lock of upload id, or fails with KindLocked.
func (l *Locker) TryLock(ctx context.Context, id string) (func(), error) {
	b := make([]byte, 16)
	rand.Read(b)
	token, key := hex.EncodeToString(b), l.prefix+id
	ok, err := l.client.SetNX(ctx, key, token, l.ttl).Result()
	if err != nil {
		return nil, &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "lock_unavailable",
			Message: "uploads are briefly unavailable", RetryAfter: time.Second, Err: err}
	}
	if !ok {
		return nil, &imgmgr.Error{Kind: imgmgr.KindLocked, Code: "upload_locked",
			Message: "another request is writing to this upload", RetryAfter: time.Second}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(l.every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
				renew.Run(rctx, l.client, []string{key}, token, l.ttl.Milliseconds())
				cancel()
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		release.Run(rctx, l.client, []string{key}, token)
	}, nil
}
