package main

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/events/redisbus"
	"github.com/imgmgr/imgmgr/stats"
	"github.com/imgmgr/imgmgr/stats/redisviews"
	"github.com/imgmgr/imgmgr/upload/tus"
	"github.com/imgmgr/imgmgr/upload/tus/redislock"
)

// shared holds what replicas share through Redis when redis.url is set,
// and in-process stand-ins otherwise: the event bus, tus upload locks and
// view counters.
type shared struct {
	bus    events.Bus
	locker tus.Locker // nil: locks within this process
	views  stats.Views
	redis  *redis.Client // nil without Redis; readiness pings it
}

const redisPrefix = "imgmgr:"

func (a *app) openShared(ctx context.Context) (*shared, error) {
	url := a.cfg.Redis.URL
	if url == "" {
		bus, err := events.NewLocal(events.LocalConfig{})
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, bus.Close)
		a.log.Info("events: in-process bus ready (set redis.url to share events, locks and stats across replicas)")
		return &shared{bus: bus, views: stats.NewMemory(0, nil)}, nil
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, dependencyError("redis.url", err)
	}
	// go-redis logs each failed dial on its own to stderr; the errors reach
	// us and are logged (or reported at start-up) once, in our format.
	redis.SetLogger(quietRedis{})
	rdb := redis.NewClient(opt)
	a.closers = append(a.closers, rdb.Close)
	if err := rdb.Ping(ctx).Err(); err != nil {
		return nil, dependencyError("redis.url", err)
	}
	bus, err := redisbus.New(ctx, redisbus.Config{URL: url, Prefix: redisPrefix})
	if err != nil {
		return nil, fmt.Errorf("redis.url: events: %w", err)
	}
	a.closers = append(a.closers, bus.Close)
	locker, err := redislock.New(ctx, redislock.Config{URL: url, Prefix: redisPrefix})
	if err != nil {
		return nil, fmt.Errorf("redis.url: locks: %w", err)
	}
	a.closers = append(a.closers, locker.Close)
	views, err := redisviews.New(rdb, redisPrefix, nil)
	if err != nil {
		return nil, err
	}
	a.log.Info("redis: events, upload locks and view counts shared at " + opt.Addr)
	return &shared{bus: bus, locker: locker, views: views, redis: rdb}, nil
}

// redisChecker adapts a Redis client to readiness.
type redisChecker struct{ c *redis.Client }

func (r redisChecker) Ping(ctx context.Context) error { return r.c.Ping(ctx).Err() }

// quietRedis drops go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
