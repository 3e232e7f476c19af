package delivery

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/imgmgr/imgmgr"
)

// rendered is a variant ready to send.
type rendered struct {
	body        []byte
	contentType string
}

// pool runs renders: one per cache key at a time however many requests
// want it (single-flight), at most `slots` at once, and at most `queueCap`
// waiting for a slot (more gets 503 at once, never an unbounded wait).
type pool struct {
	mu       sync.Mutex
	flights  map[string]*flight
	waiting  int
	queueCap int
	slots    chan struct{}
	timeout  time.Duration
	m        *metrics
	running  sync.WaitGroup // renders started, finished or not; see wait
}

type flight struct {
	done    chan struct{}
	waiters int
	res     *rendered
	err     error
}

// errAbandoned: every requester left before the render got a slot.
var errAbandoned = errors.New("render abandoned: no client waits for it")

func newPool(slots, queueCap int, timeout time.Duration, m *metrics) *pool {
	m.queueCap.Set(float64(queueCap))
	return &pool{flights: map[string]*flight{}, queueCap: queueCap, slots: make(chan struct{}, slots), timeout: timeout, m: m}
}

// do returns the render of key, joining one in flight or starting fn in
// the pool. fn gets its own context bounded by the render timeout: a
// render that started is not cut short when one of its clients leaves.
func (p *pool) do(ctx context.Context, key, format string, retryAfter time.Duration, fn func(context.Context) (*rendered, error)) (*rendered, error) {
	p.mu.Lock()
	f := p.flights[key]
	if f == nil {
		if p.waiting >= p.queueCap {
			p.mu.Unlock()
			p.m.renders.WithLabelValues(format, "rejected").Inc()
			return nil, &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "busy", Message: "too many renders waiting; retry later", RetryAfter: retryAfter}
		}
		f = &flight{done: make(chan struct{})}
		p.flights[key] = f
		p.waiting++
		p.m.queue.Set(float64(p.waiting))
		p.running.Add(1)
		go func(queued time.Time) {
			defer p.running.Done()
			p.run(key, format, f, fn, queued)
		}(time.Now())
	}
	f.waiters++
	p.mu.Unlock()
	select {
	case <-f.done:
		return f.res, f.err
	case <-ctx.Done():
		p.mu.Lock()
		f.waiters--
		p.mu.Unlock()
		return nil, ctx.Err()
	}
}

// run waits for a slot, then renders; queued is when the render was queued.
func (p *pool) run(key, format string, f *flight, fn func(context.Context) (*rendered, error), queued time.Time) {
	p.slots <- struct{}{}
	p.m.wait.Observe(time.Since(queued).Seconds())
	p.mu.Lock()
	p.waiting--
	p.m.queue.Set(float64(p.waiting))
	abandoned := f.waiters == 0
	p.mu.Unlock()
	if abandoned {
		f.err = errAbandoned
		p.m.renders.WithLabelValues(format, "abandoned").Inc()
	} else {
		p.m.inFlight.Inc()
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		f.res, f.err = fn(ctx)
		cancel()
		p.m.inFlight.Dec()
	}
	<-p.slots
	p.mu.Lock()
	delete(p.flights, key)
	p.mu.Unlock()
	close(f.done)
}

// wait blocks until every render started has finished (each is bounded by
// the render timeout): a render whose clients left still stores its
// result, which must not land after the stores are closed.
func (p *pool) wait() { p.running.Wait() }
