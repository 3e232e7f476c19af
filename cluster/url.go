package cluster

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Target is a parsed redis.url: one server, a Sentinel-monitored master or
// a Cluster. Exactly one of its option sets is non-nil.
type Target struct {
	simple   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// ParseURL parses redis.url. The accepted forms (query options as go-redis
// names them, e.g. pool_size=20, are passed on):
//
//	redis://[user:password@]host:port[/db]                one server
//	rediss://[user:password@]host:port[/db]               one server over TLS
//	unix://[user:password@]/path/redis.sock[?db=N]        one server on a socket
//	redis://[user:password@]sentinel:26379[/db]?master_name=NAME[&addr=sentinel2:26379...]
//	                                                      Sentinel: the master NAME, through these sentinels
//	                                                      (the master's password: &password=...)
//	redis://[user:password@]node1:6379?addr=node2:6379[&addr=...]
//	redis://[user:password@]node1:6379?cluster=true       Redis Cluster, from these seed nodes
//
// rediss:// works for the Sentinel and Cluster forms too.
func ParseURL(raw string) (Target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, fmt.Errorf("cluster: redis.url: %w", err)
	}
	q := u.Query()
	var t Target
	switch {
	case q.Has("master_name"):
		t.failover, err = redis.ParseFailoverURL(raw)
	case q.Has("addr") || q.Has("cluster"):
		if q.Has("cluster") && q.Get("cluster") != "true" {
			return Target{}, fmt.Errorf("cluster: redis.url: cluster=%q, want cluster=true", q.Get("cluster"))
		}
		q.Del("cluster")
		u.RawQuery = q.Encode()
		if u.Path != "" && u.Path != "/" && u.Path != "/0" {
			return Target{}, fmt.Errorf("cluster: redis.url: a Redis Cluster has no database %s", u.Path)
		}
		u.Path = ""
		t.cluster, err = redis.ParseClusterURL(u.String())
	default:
		t.simple, err = redis.ParseURL(raw)
	}
	if err != nil {
		return Target{}, fmt.Errorf("cluster: redis.url: %w", err)
	}
	return t, nil
}

// String names the target for logs, without credentials.
func (t Target) String() string {
	switch {
	case t.failover != nil:
		return "sentinel master " + t.failover.MasterName + " via " + strings.Join(t.failover.SentinelAddrs, ",")
	case t.cluster != nil:
		return "cluster " + strings.Join(t.cluster.Addrs, ",")
	case t.simple != nil:
		return t.simple.Network + " " + t.simple.Addr
	}
	return "none"
}

// knobs are the fields that make failure fast, common to the option sets.
type knobs struct {
	dial, read, write, pool *time.Duration
	retries, dialRetries    *int
}

func (t Target) knobs() knobs {
	switch {
	case t.failover != nil:
		o := t.failover
		return knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.DialerRetries}
	case t.cluster != nil:
		o := t.cluster
		return knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.DialerRetries}
	default:
		o := t.simple
		return knobs{&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.DialerRetries}
	}
}

// tune applies the configured timeouts where the URL set none (a pool wait
// of five op timeouts), and turns retries off: one attempt per dial and per command, so that a dead Redis
// is noticed within a timeout and the breaker takes over.
func (t Target) tune(cfg Config) {
	k := t.knobs()
	def(k.dial, cfg.DialTimeout)
	def(k.read, cfg.OpTimeout)
	def(k.write, cfg.OpTimeout)
	def(k.pool, 5*cfg.OpTimeout) // waiting for a free connection under load is no outage
	if *k.retries == 0 {
		*k.retries = -1
	}
	if *k.dialRetries == 0 {
		*k.dialRetries = 1
	}
}

// client builds the client of the target.
func (t Target) client() redis.UniversalClient {
	switch {
	case t.failover != nil:
		return redis.NewFailoverClient(t.failover)
	case t.cluster != nil:
		return redis.NewClusterClient(t.cluster)
	default:
		return redis.NewClient(t.simple)
	}
}
