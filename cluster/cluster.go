// Package cluster is the state replicas share through Redis: the event bus,
// tus upload locks, rate-limit buckets and login lockouts, view counts,
// content-address locks and render leases. It is the only package that
// talks to Redis, and everything in it runs over one client built once from
// redis.url.
//
// A dead Redis must cost a request milliseconds, not seconds: the client
// dials and reads with short timeouts and never retries, and a circuit
// breaker opens on the first connection-class failure. While it is open
// every call fails at once with a KindUnavailable *imgmgr.Error carrying
// RetryAfter, and a background PING closes it as soon as Redis answers.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
)

// Config configures the client. Zero durations take the defaults.
type Config struct {
	// URL is redis.url; see ParseURL for the accepted forms. Required.
	URL string
	// Prefix starts every key and channel; default "imgmgr:".
	Prefix string
	// DialTimeout bounds one connection attempt; default 200ms.
	DialTimeout time.Duration
	// OpTimeout bounds each read and write of a command; default 200ms.
	OpTimeout time.Duration
	// ProbeEvery is how often an open breaker PINGs Redis; default 300ms.
	ProbeEvery time.Duration
	// RetryAfter is what clients are told while the breaker is open; default 1s.
	RetryAfter time.Duration
}

func (c *Config) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = "imgmgr:"
	}
	def(&c.DialTimeout, 200*time.Millisecond)
	def(&c.OpTimeout, 200*time.Millisecond)
	def(&c.ProbeEvery, 300*time.Millisecond)
	def(&c.RetryAfter, time.Second)
}

func def(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.URL == "" {
		return errors.New("cluster: redis.url is required")
	}
	if _, err := ParseURL(c.URL); err != nil {
		return err
	}
	if c.DialTimeout < 0 || c.OpTimeout < 0 || c.ProbeEvery < 0 || c.RetryAfter < 0 {
		return errors.New("cluster: durations must not be negative")
	}
	return nil
}

// Deps are the optional collaborators of a Client.
type Deps struct {
	Logger  *slog.Logger          // default slog.Default()
	Metrics prometheus.Registerer // may be nil
}

// Client is the one Redis client of a process. Safe for concurrent use.
type Client struct {
	rdb     redis.UniversalClient
	prefix  string
	cfg     Config
	target  Target
	log     *slog.Logger
	br      *breaker
	metrics *metrics
}

// Open builds the client and checks that Redis answers: a replica started
// with a wrong redis.url stops at once instead of serving 503s.
func Open(ctx context.Context, cfg Config, deps Deps) (*Client, error) {
	c, err := New(cfg, deps)
	if err != nil {
		return nil, err
	}
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: %s: %w", c.target, err)
	}
	return c, nil
}

// New builds the client without contacting Redis.
func New(cfg Config, deps Deps) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	libraryLogOnce.Do(func() { redis.SetLogger(libraryLog{deps.Logger}) })
	t, _ := ParseURL(cfg.URL)
	t.tune(cfg)
	m, err := newMetrics(deps.Metrics)
	if err != nil {
		return nil, err
	}
	c := &Client{rdb: t.client(), prefix: cfg.Prefix, cfg: cfg, target: t, log: deps.Logger, metrics: m}
	c.br = newBreaker(c)
	c.rdb.AddHook(c.br)
	return c, nil
}

// go-redis logs one line of its own per failed dial (several a second
// during an outage, unstructured, on stderr); libraryLog sends them to slog
// at debug level, since the breaker logs each outage once. go-redis keeps
// its logger in a package variable, so the first Client sets it for the
// process.
var libraryLogOnce sync.Once

type libraryLog struct{ log *slog.Logger }

func (l libraryLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// Target describes where the client connects (no credentials).
func (c *Client) Target() string { return c.target.String() }

// Prefix is the key prefix.
func (c *Client) Prefix() string { return c.prefix }

// Ping checks Redis for readiness. While the breaker is open it fails at
// once, naming the outage.
func (c *Client) Ping(ctx context.Context) error {
	return c.wrap("cluster.Ping", c.rdb.Ping(ctx).Err())
}

// Available reports whether the breaker is closed.
func (c *Client) Available() bool { return !c.br.isOpen() }

// Close stops the probe and closes the connections. Close the parts built
// on the client (Bus, Views, Flights, ...) first.
func (c *Client) Close() error {
	c.br.stop()
	return c.rdb.Close()
}

// wrap turns a Redis error into the project's error: the breaker's
// KindUnavailable errors keep their kind, others become internal errors.
// redis.Nil and nil pass through.
func (c *Client) wrap(op string, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	var e *imgmgr.Error
	if errors.As(err, &e) {
		return imgmgr.Wrap(op, err)
	}
	if errors.Is(err, redis.ErrClosed) {
		return c.unavailable(op, err)
	}
	return imgmgr.Internal(op, err)
}

// unavailable is the error of a call that Redis could not serve.
func (c *Client) unavailable(op string, cause error) error {
	return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "unavailable", Op: op,
		Message: "the service is temporarily unavailable", RetryAfter: c.cfg.RetryAfter, Err: cause}
}
