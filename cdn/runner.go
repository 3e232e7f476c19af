package cdn

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/imgmgr/imgmgr/meta"
)

// RunnerConfig tunes the runner; zero values mean the defaults.
type RunnerConfig struct {
	Interval    time.Duration // how often an idle runner looks for due tasks; default 1s
	Lease       time.Duration // how long a claim holds; default 2m
	ClaimLimit  int           // tasks claimed at once (coalesced into requests); default 10000
	MaxAttempts int           // failed submissions before a task fails; default 10 (rate limits not counted)
	BackoffBase time.Duration // first retry delay, doubled per attempt, with jitter; default 2s
	BackoffMax  time.Duration // default 10m
	PollEvery   time.Duration // between status polls of in-progress tasks; default 2s
	// RateScale multiplies the vendor's documented rates the runner paces
	// by (tests that run vendor limits on a faster clock); default 1.
	RateScale float64
}

func (c *RunnerConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Interval, time.Second)
	def(&c.Lease, 2*time.Minute)
	def(&c.BackoffBase, 2*time.Second)
	def(&c.BackoffMax, 10*time.Minute)
	def(&c.PollEvery, 2*time.Second)
	if c.ClaimLimit <= 0 {
		c.ClaimLimit = 10000
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
}

// Runner claims this provider's due tasks, coalesces them into vendor-sized
// requests paced under the vendor's limits, records the vendor's answers,
// and polls tasks in progress until they are done. Several runners (one per
// replica) share the work: the store gives each task to one of them.
type Runner struct {
	cfg    RunnerConfig
	p      Provider
	store  Store
	log    *slog.Logger
	m      *Metrics
	pacers map[string]*Pacer
	now    func() time.Time

	mu          sync.Mutex
	pausedUntil time.Time // after a rate-limit answer, nothing is sent before
	wake        chan struct{}
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

// NewRunner returns a runner for the service's provider; it wakes as soon
// as the service queues a task. m may be nil.
func NewRunner(cfg RunnerConfig, svc *Service, m *Metrics, log *slog.Logger) *Runner {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{cfg: cfg, p: svc.p, store: svc.store, log: log, m: m, now: time.Now, wake: make(chan struct{}, 1),
		pacers: map[string]*Pacer{KindPurgeURL: NewPacer(svc.p.URLLimits().Scale(cfg.RateScale))}}
	if tp, ok := svc.p.(TagPurger); ok {
		r.pacers[KindPurgeTag] = NewPacer(tp.TagLimits().Scale(cfg.RateScale))
	}
	if pf, ok := svc.p.(Prefetcher); ok {
		r.pacers[KindPrefetch] = NewPacer(pf.PrefetchLimits().Scale(cfg.RateScale))
	}
	svc.wake = r.Wake
	return r
}

// Wake makes an idle runner look for tasks now.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start runs the loop until Close.
func (r *Runner) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.wg.Add(1)
	go r.loop(ctx)
}

// Close stops the loop and waits for the current round. Tasks claimed and
// not saved are claimed again when their lease lapses.
func (r *Runner) Close() error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	return nil
}

func (r *Runner) loop(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		for ctx.Err() == nil && r.RunOnce(ctx) > 0 {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// RunOnce claims and handles one round of due tasks; it returns how many.
func (r *Runner) RunOnce(ctx context.Context) int {
	if wait := r.paused(); wait > 0 {
		return 0
	}
	ts, err := r.store.ClaimCDNTasks(ctx, r.p.Name(), r.cfg.ClaimLimit, r.cfg.Lease)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("cdn: claiming tasks", "provider", r.p.Name(), "err", err)
		}
		return 0
	}
	if len(ts) == 0 {
		return 0
	}
	byKind := map[string][]*meta.CDNTask{}
	var polls []*meta.CDNTask
	for i := range ts {
		if ts[i].State == meta.CDNInProgress {
			polls = append(polls, &ts[i])
		} else {
			byKind[ts[i].Kind] = append(byKind[ts[i].Kind], &ts[i])
		}
	}
	saved := map[string]bool{}
	flush := func(done []*meta.CDNTask) {
		var out []meta.CDNTask
		for _, t := range done {
			if !saved[t.ID] {
				saved[t.ID] = true
				out = append(out, *t)
			}
		}
		r.save(ctx, out)
	}
	for _, kind := range []string{KindPurgeTag, KindPurgeURL, KindPrefetch} {
		r.submit(ctx, kind, byKind[kind], flush)
	}
	r.poll(ctx, polls)
	if ctx.Err() != nil {
		return 0 // shutting down: the leases lapse and the tasks run again
	}
	rest := make([]*meta.CDNTask, len(ts))
	for i := range ts {
		rest[i] = &ts[i]
	}
	flush(rest)
	return len(ts)
}

// save records outcomes; tasks are saved as soon as the vendor accepted
// them, so a long round does not hold back the early ones.
func (r *Runner) save(ctx context.Context, ts []meta.CDNTask) {
	if len(ts) == 0 {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	lost, err := r.store.SaveCDNTasks(sctx, ts)
	if err != nil {
		r.log.Error("cdn: saving tasks", "provider", r.p.Name(), "err", err)
		return
	}
	if len(lost) > 0 {
		r.log.Warn("cdn: tasks re-claimed by another runner before this one saved them", "n", len(lost))
	}
	for _, t := range ts {
		if t.State == meta.CDNDone && !slicesContains(lost, t.ID) {
			r.m.observeDone(t, r.now())
		}
	}
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (r *Runner) paused() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pausedUntil.Sub(r.now())
}

func (r *Runner) pause(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if until := r.now().Add(d); until.After(r.pausedUntil) {
		r.pausedUntil = until
	}
}

// backoff is the delay before the next attempt: the vendor's Retry-After
// plus up to 20% jitter when it gave one, else base·2^(attempts-1) capped,
// of which the second half is random (so retries of many tasks spread).
func (r *Runner) backoff(attempts int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter + time.Duration(rand.Int64N(int64(retryAfter)/5+1))
	}
	d := r.cfg.BackoffBase
	for i := 1; i < attempts && d < r.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, r.cfg.BackoffMax)
	return d/2 + time.Duration(rand.Int64N(int64(d)/2+1))
}
