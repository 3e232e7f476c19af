package cluster

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrOpen is the cause of the errors returned while the breaker is open.
var ErrOpen = errors.New("cluster: redis unreachable (circuit breaker open)")

// breaker is a go-redis hook: it watches every dial and command for a
// connection-class failure, which opens it; while open it fails commands
// without touching the network, and a probe goroutine PINGs Redis every
// ProbeEvery until it answers, which closes it. There is no half-open
// state: the probe is the one trial request.
type breaker struct {
	c       *Client
	open    atomic.Bool
	mu      sync.Mutex
	probing bool
	quit    chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	onOpen  []func() // told of each outage, guarded by mu
}

// notify registers fn to run (in its own goroutine) each time the breaker
// opens.
func (b *breaker) notify(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onOpen = append(b.onOpen, fn)
}

func newBreaker(c *Client) *breaker { return &breaker{c: c, quit: make(chan struct{})} }

func (b *breaker) isOpen() bool { return b.open.Load() }

// probeKey marks the probe's context, which passes an open breaker.
type probeKey struct{}

func isProbe(ctx context.Context) bool { return ctx.Value(probeKey{}) != nil }

// refuse is the error of a command refused while the breaker is open.
func (b *breaker) refuse(name string) error { return b.c.unavailable("redis."+name, ErrOpen) }

// DialHook implements redis.Hook: a failed dial opens the breaker.
func (b *breaker) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil && connectionFailure(ctx, err) {
			b.trip(err)
		}
		return conn, err
	}
}

// ProcessHook implements redis.Hook.
func (b *breaker) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if b.isOpen() && !isProbe(ctx) {
			return b.refuse(cmd.Name())
		}
		err := next(ctx, cmd)
		if err != nil && connectionFailure(ctx, err) {
			b.trip(err)
			return b.c.unavailable("redis."+cmd.Name(), err)
		}
		if saturated(err) {
			return b.c.unavailable("redis."+cmd.Name(), err)
		}
		return err
	}
}

// saturated reports that no pooled connection was free in time: this call
// fails as unavailable, and the breaker stays closed.
func saturated(err error) bool {
	return errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted)
}

// ProcessPipelineHook implements redis.Hook.
func (b *breaker) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if b.isOpen() && !isProbe(ctx) {
			err := b.refuse("pipeline")
			for _, cmd := range cmds {
				cmd.SetErr(err)
			}
			return err
		}
		err := next(ctx, cmds)
		if err != nil && connectionFailure(ctx, err) {
			b.trip(err)
			return b.c.unavailable("redis.pipeline", err)
		}
		if saturated(err) {
			return b.c.unavailable("redis.pipeline", err)
		}
		return err
	}
}

// connectionFailure reports an error that says Redis cannot be reached or
// cannot serve (as opposed to a missing key, a script error, the caller's
// own context ending, or a pool momentarily exhausted by this process's own
// load, which must not fail every other call: see saturated).
func connectionFailure(ctx context.Context, err error) bool {
	if errors.Is(err, redis.Nil) || errors.Is(err, redis.ErrClosed) || ctx.Err() != nil {
		return false
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var re redis.Error
	if errors.As(err, &re) {
		for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "READONLY", "TRYAGAIN"} {
			if strings.HasPrefix(re.Error(), p) {
				return true
			}
		}
	}
	return false
}

// trip opens the breaker and starts the probe, once per outage.
func (b *breaker) trip(cause error) {
	if b.open.Swap(true) {
		return
	}
	b.c.metrics.trips.Inc()
	b.c.metrics.open.Set(1)
	b.c.log.Warn("redis: unreachable; failing fast until it answers again", "target", b.c.target.String(), "err", cause)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, fn := range b.onOpen {
		go fn()
	}
	if b.probing {
		return
	}
	select {
	case <-b.quit:
		return
	default:
	}
	b.probing = true
	b.wg.Add(1)
	go b.probe(time.Now())
}

// probe PINGs Redis until it answers, then closes the breaker.
func (b *breaker) probe(since time.Time) {
	defer b.wg.Done()
	t := time.NewTicker(b.c.cfg.ProbeEvery)
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), probeKey{}, true), b.c.cfg.OpTimeout+b.c.cfg.DialTimeout)
		err := b.c.rdb.Ping(ctx).Err()
		cancel()
		if err != nil {
			b.c.log.Debug("redis: probe failed", "err", err)
			continue
		}
		b.mu.Lock()
		b.probing = false
		b.open.Store(false)
		b.mu.Unlock()
		b.c.metrics.open.Set(0)
		b.c.log.Info("redis: reachable again", "target", b.c.target.String(), "down_for", time.Since(since).Round(time.Millisecond))
		return
	}
}

// stop ends the probe (Close).
func (b *breaker) stop() {
	b.once.Do(func() {
		b.mu.Lock()
		close(b.quit)
		b.mu.Unlock()
		b.wg.Wait()
	})
}
