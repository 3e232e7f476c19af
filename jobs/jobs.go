// Package jobs runs durable background jobs stored through meta.Jobs:
// handlers registered per kind, a small pool of workers that claim due
// jobs with a lease, and retries with exponential backoff until a job's
// attempts run out. Jobs survive restarts because they live in the
// metadata store; a job whose worker died is claimed again once its lease
// expires.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr/meta"
)

// Config tunes the runner. Zero values mean the defaults.
type Config struct {
	Workers      int           // jobs run at once; default 1
	PollInterval time.Duration // how often idle workers look for due jobs; default 2s
	Lease        time.Duration // how long a claimed job is ours; default 5m
	MaxAttempts  int           // default 5
	BackoffBase  time.Duration // first retry delay, doubled each attempt; default 5s
	BackoffMax   time.Duration // default 10m
}

// Validate fills defaults and checks values.
func (c *Config) Validate() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Workers == 0 {
		c.Workers = 1
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 5
	}
	def(&c.PollInterval, 2*time.Second)
	def(&c.Lease, 5*time.Minute)
	def(&c.BackoffBase, 5*time.Second)
	def(&c.BackoffMax, 10*time.Minute)
	if c.Workers < 0 || c.MaxAttempts < 0 || c.PollInterval < 0 || c.Lease < 0 || c.BackoffBase < 0 || c.BackoffMax < c.BackoffBase {
		return errors.New("jobs: workers, attempts and durations must be positive (backoff_max >= backoff_base)")
	}
	return nil
}

// Handler runs one job. A nil error completes it; an error schedules a
// retry, unless it is Permanent.
type Handler func(ctx context.Context, payload []byte) error

type permanent struct{ error }

// Permanent marks err as not worth retrying: the job is dropped.
func Permanent(err error) error { return permanent{err} }

func (p permanent) Unwrap() error { return p.error }

// Runner claims and runs jobs. Register handlers with Handle before Start.
type Runner struct {
	cfg      Config
	store    meta.Jobs
	log      *slog.Logger
	handlers map[string]Handler
	wake     chan struct{}
	wg       sync.WaitGroup
	cancel   context.CancelFunc
	now      func() time.Time
	outcomes *prometheus.CounterVec
}

// New returns a Runner over store. reg may be nil (no metrics).
func New(cfg Config, store meta.Jobs, reg prometheus.Registerer, log *slog.Logger) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("jobs: no store")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Runner{cfg: cfg, store: store, log: log, handlers: map[string]Handler{}, wake: make(chan struct{}, 1), now: time.Now,
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "imgmgr_jobs_total", Help: "Background job runs by kind and outcome (done, retry, failed, dropped).",
		}, []string{"kind", "outcome"})}
	if reg != nil {
		if err := reg.Register(r.outcomes); err != nil {
			return nil, fmt.Errorf("jobs: metrics: %w", err)
		}
	}
	return r, nil
}

// Handle registers the handler of a kind. Not safe after Start.
func (r *Runner) Handle(kind string, h Handler) { r.handlers[kind] = h }

// Enqueue stores a job of kind with payload encoded as JSON, due now, and
// wakes a worker.
func (r *Runner) Enqueue(ctx context.Context, kind string, payload any) (string, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	j := &meta.Job{Kind: kind, Payload: b, MaxAttempts: r.cfg.MaxAttempts, RunAt: r.now()}
	if err := r.store.EnqueueJob(ctx, j); err != nil {
		return "", err
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return j.ID, nil
}

// Start runs the workers until Close. Handlers get a context cancelled by
// Close.
func (r *Runner) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	for range r.cfg.Workers {
		r.wg.Add(1)
		go r.work(ctx)
	}
}

// Close stops the workers and waits for running jobs to return. A job cut
// short is claimed again after its lease.
func (r *Runner) Close() error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	return nil
}

func (r *Runner) kinds() []string {
	ks := make([]string, 0, len(r.handlers))
	for k := range r.handlers {
		ks = append(ks, k)
	}
	return ks
}

func (r *Runner) work(ctx context.Context) {
	defer r.wg.Done()
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for {
		for r.runOne(ctx) {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
	}
}

// runOne claims and runs one due job; it reports whether it found one.
func (r *Runner) runOne(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	js, err := r.store.ClaimJobs(ctx, r.kinds(), 1, r.cfg.Lease)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Error("jobs: claim", "err", err)
		}
		return false
	}
	if len(js) == 0 {
		return false
	}
	r.run(ctx, js[0])
	return true
}

func (r *Runner) run(ctx context.Context, j meta.Job) {
	jctx, cancel := context.WithTimeout(ctx, r.cfg.Lease)
	err := r.safeCall(jctx, j)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: the lease expires and the job runs again
	}
	// Bookkeeping must not be cut short by shutdown.
	bctx, bcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer bcancel()
	var perm permanent
	switch {
	case err == nil:
		r.finish(j, "done", r.store.CompleteJob(bctx, j.ID))
	case errors.As(err, &perm):
		r.log.Warn("jobs: dropped", "kind", j.Kind, "id", j.ID, "err", err)
		r.finish(j, "dropped", r.store.CompleteJob(bctx, j.ID))
	default:
		outcome := "retry"
		if j.Attempts >= j.MaxAttempts {
			outcome = "failed"
		}
		r.log.Warn("jobs: attempt failed", "kind", j.Kind, "id", j.ID, "attempt", j.Attempts, "outcome", outcome, "err", err)
		r.finish(j, outcome, r.store.FailJob(bctx, j.ID, err.Error(), r.now().Add(r.backoff(j.Attempts))))
	}
}

func (r *Runner) finish(j meta.Job, outcome string, storeErr error) {
	r.outcomes.WithLabelValues(j.Kind, outcome).Inc()
	if storeErr != nil {
		r.log.Error("jobs: recording outcome", "kind", j.Kind, "id", j.ID, "err", storeErr)
	}
}

// safeCall runs the handler, turning a panic into an error.
func (r *Runner) safeCall(ctx context.Context, j meta.Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	h := r.handlers[j.Kind]
	if h == nil {
		return Permanent(fmt.Errorf("no handler for kind %q", j.Kind))
	}
	return h(ctx, j.Payload)
}

// backoff is the delay before attempt n+1: base·2^(n-1), capped.
func (r *Runner) backoff(attempts int) time.Duration {
	d := r.cfg.BackoffBase
	for i := 1; i < attempts && d < r.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, r.cfg.BackoffMax)
}
