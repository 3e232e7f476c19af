// Package redisrl keeps rate-limit buckets and login lockouts in Redis so
// that every replica shares one budget. Buckets use GCRA (the generic cell
// rate algorithm, a token bucket stored as one timestamp per key), decided
// atomically by one Lua script.
package redisrl

import (
	"context"
	_ "embed"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/ratelimit"
)

//go:embed gcra.lua
var gcraSource string

var gcra = redis.NewScript(gcraSource)

// Config configures a Redis Limiter.
type Config struct {
	Limit ratelimit.Limit
	// Prefix starts every key, e.g. "imgmgr:rl:upload:user:"; required, and
	// distinct per policy so that policies keep separate buckets.
	Prefix string
	// Now, when set, is the clock passed to the script (tests). Unset, the
	// script reads Redis' own clock, which all replicas share.
	Now func() time.Time
}

// Limiter is a ratelimit.Limiter in Redis. Safe for concurrent use.
type Limiter struct {
	rdb      redis.Scripter
	limit    ratelimit.Limit
	prefix   string
	now      func() time.Time
	interval float64 // microseconds per token
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// New returns a Limiter over rdb (a *redis.Client, *redis.ClusterClient,
// ...). It does not contact Redis.
func New(rdb redis.Scripter, cfg Config) (*Limiter, error) {
	if err := cfg.Limit.Validate(); err != nil {
		return nil, err
	}
	if cfg.Prefix == "" {
		return nil, errors.New("redisrl: a key prefix is required")
	}
	return &Limiter{rdb: rdb, limit: cfg.Limit, prefix: cfg.Prefix, now: cfg.Now,
		interval: 1e6 / cfg.Limit.Rate}, nil
}

// Allow implements ratelimit.Limiter.
func (l *Limiter) Allow(ctx context.Context, key string, cost int) (ratelimit.Decision, error) {
	if cost < 0 {
		return ratelimit.Decision{}, imgmgr.Internal("redisrl.Allow", errors.New("negative cost"))
	}
	if cost > l.limit.Burst {
		return ratelimit.Decision{Limit: l.limit.Burst}, ratelimit.ErrCostOverBurst
	}
	now := int64(-1)
	if l.now != nil {
		now = l.now().UnixMicro()
	}
	args := []any{strconv.FormatFloat(l.interval, 'g', -1, 64), l.limit.Burst, cost, now}
	res, err := gcra.Run(ctx, l.rdb, []string{l.prefix + key}, args...).Int64Slice()
	if err != nil {
		return ratelimit.Decision{}, unavailable("redisrl.Allow", err)
	}
	if len(res) != 4 {
		return ratelimit.Decision{}, imgmgr.Internal("redisrl.Allow", errors.New("unexpected script reply"))
	}
	return ratelimit.Decision{
		Allowed:    res[0] == 1,
		Limit:      l.limit.Burst,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		ResetAfter: time.Duration(res[3]) * time.Microsecond,
	}, nil
}

func unavailable(op string, err error) error {
	return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "unavailable", Op: op,
		Message: "the service is temporarily unavailable", RetryAfter: 5 * time.Second, Err: err}
}

// ceilMillis rounds d up to whole milliseconds, at least 1.
func ceilMillis(d time.Duration) int64 {
	return max(int64(math.Ceil(float64(d)/float64(time.Millisecond))), 1)
}
