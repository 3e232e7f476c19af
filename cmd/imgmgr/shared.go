package main

import (
	"context"

	"github.com/imgmgr/imgmgr/blob"
	rcluster "github.com/imgmgr/imgmgr/cluster" // renamed: the tests of package main have a type cluster
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/delivery"
	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/stats"
	"github.com/imgmgr/imgmgr/upload/tus"
)

// shared holds what replicas share through Redis when redis.url is set,
// and in-process stand-ins otherwise: the event bus, tus upload locks, view
// counters, content-address locks and render leases.
type shared struct {
	bus      events.Bus
	locker   tus.Locker // nil: locks within this process
	views    stats.Views
	keyLocks blob.KeyLocker   // content-address locks: in process, or across replicas
	flights  delivery.Flights // nil without Redis: one render per variant within this process only
	redis    *rcluster.Client // nil without Redis; readiness asks its breaker
}

func (a *app) openShared(ctx context.Context) (*shared, error) {
	if a.cfg.Redis.URL == "" {
		bus, err := events.NewLocal(events.LocalConfig{})
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, bus.Close)
		a.log.Info("events: in-process bus ready (set redis.url to share events, locks and stats across replicas)")
		return &shared{bus: bus, views: stats.NewMemory(0, nil), keyLocks: &blob.Locks{}}, nil
	}
	rc := a.cfg.Redis
	c, err := rcluster.Open(ctx, rcluster.Config{URL: rc.URL, Prefix: rc.Prefix, DialTimeout: rc.DialTimeout.D(),
		OpTimeout: rc.OpTimeout.D()}, rcluster.Deps{Logger: a.log, Metrics: a.reg})
	if err != nil {
		return nil, dependencyError("redis.url", err)
	}
	a.closers = append(a.closers, c.Close) // closed last: what follows runs on it
	sh := &shared{redis: c}
	if err := a.openClusterParts(ctx, c, sh); err != nil {
		return nil, err
	}
	a.log.Info("redis: events, upload and blob locks, rate limits, view counts and render leases shared at " + c.Target())
	return sh, nil
}

// openClusterParts builds the shared parts over the one client; each is
// closed before it.
func (a *app) openClusterParts(ctx context.Context, c *rcluster.Client, sh *shared) error {
	rc := a.cfg.Redis
	bus, err := c.NewBus(ctx, rcluster.BusConfig{})
	if err != nil {
		return dependencyError("redis.url", err)
	}
	a.closers = append(a.closers, bus.Close)
	locker, err := c.NewUploadLocker(rcluster.UploadLockConfig{TTL: rc.LockTTL.D()})
	if err != nil {
		return &config.Error{Key: "redis.lock_ttl", Err: err}
	}
	keyLocks, err := c.NewKeyLocks(rcluster.KeyLocksConfig{TTL: rc.LockTTL.D()})
	if err != nil {
		return &config.Error{Key: "redis.lock_ttl", Err: err}
	}
	a.closers = append(a.closers, keyLocks.Close)
	views, err := c.NewViews(rcluster.ViewsConfig{})
	if err != nil {
		return err
	}
	a.closers = append(a.closers, views.Close) // flushes the last counts
	fl, err := c.NewFlights(ctx, rcluster.FlightsConfig{TTL: rc.RenderLeaseTTL.D()})
	if err != nil {
		return &config.Error{Key: "redis.render_lease_ttl", Err: err}
	}
	a.closers = append(a.closers, fl.Close)
	sh.bus, sh.locker, sh.keyLocks, sh.views, sh.flights = bus, locker, keyLocks, views, fl
	return nil
}

// redisChecker adapts the Redis client to readiness: while its breaker is
// open the check fails at once.
type redisChecker struct{ c *rcluster.Client }

func (r redisChecker) Ping(ctx context.Context) error { return r.c.Ping(ctx) }
