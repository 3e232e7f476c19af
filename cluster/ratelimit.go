package cluster

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

// Rate-limit buckets use GCRA (the generic cell rate algorithm, a token
// bucket stored as one timestamp per key), decided atomically by one Lua
// script, so every replica shares one budget.

//go:embed gcra.lua
var gcraSource string

var gcra = redis.NewScript(gcraSource)

// LimiterConfig configures a Redis Limiter.
type LimiterConfig struct {
	Limit ratelimit.Limit
	// Policy names the buckets: keys are Prefix+"rl:"+Policy+":"+key.
	// Required, and distinct per policy so that policies keep separate
	// buckets.
	Policy string
	// Now, when set, is the clock passed to the script (tests). Unset, the
	// script reads Redis' own clock, which all replicas share.
	Now func() time.Time
}

// Limiter is a ratelimit.Limiter in Redis. Safe for concurrent use.
type Limiter struct {
	c        *Client
	limit    ratelimit.Limit
	prefix   string
	now      func() time.Time
	interval float64 // microseconds per token
}

var _ ratelimit.Limiter = (*Limiter)(nil)

// NewLimiter returns a Limiter; it does not contact Redis.
func (c *Client) NewLimiter(cfg LimiterConfig) (*Limiter, error) {
	if err := cfg.Limit.Validate(); err != nil {
		return nil, err
	}
	if cfg.Policy == "" {
		return nil, errors.New("cluster: a rate-limit policy name is required")
	}
	return &Limiter{c: c, limit: cfg.Limit, prefix: c.prefix + "rl:" + cfg.Policy + ":", now: cfg.Now,
		interval: 1e6 / cfg.Limit.Rate}, nil
}

// Allow implements ratelimit.Limiter. While Redis is unreachable it fails
// at once with KindUnavailable (the caller fails open or closed).
func (l *Limiter) Allow(ctx context.Context, key string, cost int) (ratelimit.Decision, error) {
	if cost < 0 {
		return ratelimit.Decision{}, imgmgr.Internal("cluster.Limiter.Allow", errors.New("negative cost"))
	}
	if cost > l.limit.Burst {
		return ratelimit.Decision{Limit: l.limit.Burst}, ratelimit.ErrCostOverBurst
	}
	now := int64(-1)
	if l.now != nil {
		now = l.now().UnixMicro()
	}
	args := []any{strconv.FormatFloat(l.interval, 'g', -1, 64), l.limit.Burst, cost, now}
	res, err := gcra.Run(ctx, l.c.rdb, []string{l.prefix + key}, args...).Int64Slice()
	if err != nil {
		return ratelimit.Decision{}, l.c.wrap("cluster.Limiter.Allow", err)
	}
	if len(res) != 4 {
		return ratelimit.Decision{}, imgmgr.Internal("cluster.Limiter.Allow", errors.New("unexpected script reply"))
	}
	return ratelimit.Decision{
		Allowed:    res[0] == 1,
		Limit:      l.limit.Burst,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		ResetAfter: time.Duration(res[3]) * time.Microsecond,
	}, nil
}

// ceilMillis rounds d up to whole milliseconds, at least 1.
func ceilMillis(d time.Duration) int64 {
	return max(int64(math.Ceil(float64(d)/float64(time.Millisecond))), 1)
}
