package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/stats"
)

// ViewsConfig configures the view counters. Zero fields take defaults.
type ViewsConfig struct {
	FlushEvery time.Duration    // how often buffered counts go to Redis; default 1s
	MaxPending int              // distinct (day, image) counts buffered; default 100 000
	Now        func() time.Time // default time.Now
}

// Views is a stats.Views in Redis sorted sets, one per UTC day
// (Prefix+"views:"+day, ZINCRBY), so every replica contributes to one
// ranking. Record only counts in memory: a flusher writes the counts in one
// pipeline every FlushEvery, so a view costs a response no Redis round
// trip and an unreachable Redis is never felt by a client. Safe for
// concurrent use.
type Views struct {
	c       *Client
	cfg     ViewsConfig
	mu      sync.Mutex
	pending map[dayImage]int64
	flushMu sync.Mutex // one flush at a time
	failing bool       // the last flush failed (guarded by flushMu): log once per outage
	quit    chan struct{}
	done    chan struct{}
	once    sync.Once
}

type dayImage struct{ day, id string }

var _ stats.Views = (*Views)(nil)

// NewViews starts the flusher; Close stops it.
func (c *Client) NewViews(cfg ViewsConfig) (*Views, error) {
	if cfg.FlushEvery < 0 || cfg.MaxPending < 0 {
		return nil, errors.New("cluster: views: flush period and buffer size must not be negative")
	}
	def(&cfg.FlushEvery, time.Second)
	if cfg.MaxPending == 0 {
		cfg.MaxPending = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Views{c: c, cfg: cfg, pending: map[dayImage]int64{}, quit: make(chan struct{}), done: make(chan struct{})}
	go v.run()
	return v, nil
}

func (v *Views) key(day string) string { return v.c.prefix + "views:" + day }

// Record implements stats.Views: it counts in memory and never fails. A
// view past MaxPending buffered counts is dropped (and counted as such).
func (v *Views) Record(_ context.Context, id string) error {
	k := dayImage{stats.Day(v.cfg.Now()), id}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.pending[k]; !ok && len(v.pending) >= v.cfg.MaxPending {
		v.c.metrics.viewsDropped.Inc()
		return nil
	}
	v.pending[k]++
	return nil
}

func (v *Views) run() {
	defer close(v.done)
	t := time.NewTicker(v.cfg.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-v.quit:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), v.cfg.FlushEvery)
			v.flush(ctx)
			cancel()
		}
	}
}

// flush writes the buffered counts in one pipeline. A failure is logged and
// counted, never returned to a client; counts refused by an open breaker
// (nothing was sent) stay buffered for the next flush, others are dropped
// rather than risk counting twice.
func (v *Views) flush(ctx context.Context) error {
	v.flushMu.Lock()
	defer v.flushMu.Unlock()
	v.mu.Lock()
	batch := v.pending
	v.pending = map[dayImage]int64{}
	v.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	p := v.c.rdb.Pipeline()
	days := map[string]bool{}
	for k, n := range batch {
		p.ZIncrBy(ctx, v.key(k.day), float64(n), k.id)
		days[k.day] = true
	}
	for d := range days {
		p.Expire(ctx, v.key(d), (stats.KeepDays+1)*24*time.Hour)
	}
	_, err := p.Exec(ctx)
	if err == nil {
		v.failing = false
		return nil
	}
	v.c.metrics.flushFailed.Inc()
	if !v.failing {
		v.c.log.Warn("views: flushing counts to redis failed (logged once until a flush succeeds)", "counts", len(batch), "err", err)
	}
	v.failing = true
	if errors.Is(err, ErrOpen) {
		v.requeue(batch)
	} else {
		v.c.metrics.viewsDropped.Add(float64(sum(batch)))
	}
	return v.c.wrap("cluster.Views.flush", err)
}

// requeue puts counts back into the buffer, within MaxPending.
func (v *Views) requeue(batch map[dayImage]int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, n := range batch {
		if _, ok := v.pending[k]; !ok && len(v.pending) >= v.cfg.MaxPending {
			v.c.metrics.viewsDropped.Add(float64(n))
			continue
		}
		v.pending[k] += n
	}
}

func sum(m map[dayImage]int64) (n int64) {
	for _, c := range m {
		n += c
	}
	return n
}

// Top implements stats.Views. It flushes this replica's buffered counts
// first, so a view recorded here before Top is in the ranking.
func (v *Views) Top(ctx context.Context, days, n int) ([]stats.ImageViews, error) {
	if n <= 0 {
		return []stats.ImageViews{}, nil
	}
	if err := v.flush(ctx); imgmgr.KindOf(err) == imgmgr.KindUnavailable {
		return nil, err
	}
	days = max(1, min(days, stats.KeepDays))
	// One read per day, summed here: ZUNION across the days' keys would
	// be a cross-slot command on a Redis Cluster.
	p := v.c.rdb.Pipeline()
	reads := make([]*redis.ZSliceCmd, days)
	for i := range reads {
		reads[i] = p.ZRangeWithScores(ctx, v.key(stats.Day(v.cfg.Now().AddDate(0, 0, -i))), 0, -1)
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, v.c.wrap("cluster.Views.Top", err)
	}
	sums := map[string]int64{}
	for _, r := range reads {
		for _, z := range r.Val() {
			sums[z.Member.(string)] += int64(z.Score)
		}
	}
	out := make([]stats.ImageViews, 0, len(sums))
	for id, n := range sums {
		out = append(out, stats.ImageViews{ID: id, Views: n})
	}
	stats.Rank(out)
	return out[:min(n, len(out))], nil
}

// Close stops the flusher and flushes once more.
func (v *Views) Close() error {
	var err error
	v.once.Do(func() {
		close(v.quit)
		<-v.done
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err = v.flush(ctx)
	})
	return err
}
