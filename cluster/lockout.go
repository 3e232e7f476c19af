package cluster

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/ratelimit"
)

// lockScript sets the lock end (unix microseconds) when later than the
// stored one, on a record that exists.
var lockScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'until', ARGV[1]) end
return 1`)

// LockoutStore is a ratelimit.LockoutStore in Redis: one hash per key
// (Prefix+"lockout:"+key) with the failure count and the lock end,
// expiring after the forget period.
type LockoutStore struct {
	c      *Client
	prefix string
}

var _ ratelimit.LockoutStore = (*LockoutStore)(nil)

// NewLockoutStore returns the store; it does not contact Redis.
func (c *Client) NewLockoutStore() *LockoutStore {
	return &LockoutStore{c: c, prefix: c.prefix + "lockout:"}
}

// Fail implements ratelimit.LockoutStore.
func (s *LockoutStore) Fail(ctx context.Context, key string, forget time.Duration) (int, error) {
	var n *redis.IntCmd
	_, err := s.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.HIncrBy(ctx, s.prefix+key, "n", 1)
		p.PExpire(ctx, s.prefix+key, time.Duration(ceilMillis(forget))*time.Millisecond)
		return nil
	})
	if err != nil {
		return 0, s.c.wrap("cluster.LockoutStore.Fail", err)
	}
	return int(n.Val()), nil
}

// Lock implements ratelimit.LockoutStore.
func (s *LockoutStore) Lock(ctx context.Context, key string, until time.Time) error {
	err := lockScript.Run(ctx, s.c.rdb, []string{s.prefix + key}, until.UnixMicro()).Err()
	return s.c.wrap("cluster.LockoutStore.Lock", err)
}

// Locked implements ratelimit.LockoutStore.
func (s *LockoutStore) Locked(ctx context.Context, key string) (time.Time, error) {
	v, err := s.c.rdb.HGet(ctx, s.prefix+key, "until").Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, s.c.wrap("cluster.LockoutStore.Locked", err)
	}
	us, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, imgmgr.Internal("cluster.LockoutStore.Locked", err)
	}
	return time.UnixMicro(us), nil
}

// Reset implements ratelimit.LockoutStore.
func (s *LockoutStore) Reset(ctx context.Context, key string) error {
	return s.c.wrap("cluster.LockoutStore.Reset", s.c.rdb.Del(ctx, s.prefix+key).Err())
}
