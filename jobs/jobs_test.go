package jobs

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/sqlite"
)

func openStore(t *testing.T) meta.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitJob polls the job until cond holds (bounded by the test deadline,
// not by a timing assertion).
func waitJob(t *testing.T, st meta.Jobs, id string, cond func(*meta.Job) bool) *meta.Job {
	t.Helper()
	for {
		j, err := st.FindJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if cond(j) {
			return j
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRetryThenSucceed(t *testing.T) {
	st := openStore(t)
	reg := prometheus.NewRegistry()
	r, err := New(Config{PollInterval: 20 * time.Millisecond, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond}, st, reg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	r.Handle("test.flaky", func(ctx context.Context, payload []byte) error {
		if string(payload) != `{"n":1}` {
			t.Errorf("payload %s", payload)
		}
		if calls.Add(1) < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	r.Start()
	defer r.Close()
	id, err := r.Enqueue(context.Background(), "test.flaky", map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	j := waitJob(t, st, id, func(j *meta.Job) bool { return j.State == "done" })
	if j.Attempts != 3 || calls.Load() != 3 {
		t.Errorf("attempts %d, calls %d, want 3", j.Attempts, calls.Load())
	}
	if got := testutil.ToFloat64(r.outcomes.WithLabelValues("test.flaky", "retry")); got != 2 {
		t.Errorf("retry count %v, want 2", got)
	}
}

func TestGivesUpAndDrops(t *testing.T) {
	st := openStore(t)
	r, err := New(Config{PollInterval: 20 * time.Millisecond, MaxAttempts: 2, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond}, st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Handle("test.broken", func(ctx context.Context, payload []byte) error { return errors.New("always") })
	var perm atomic.Int32
	r.Handle("test.permanent", func(ctx context.Context, payload []byte) error { perm.Add(1); return Permanent(errors.New("gone")) })
	r.Start()
	defer r.Close()
	id, _ := r.Enqueue(context.Background(), "test.broken", nil)
	j := waitJob(t, st, id, func(j *meta.Job) bool { return j.State == "failed" })
	if j.Attempts != 2 || j.LastError != "always" {
		t.Errorf("failed job: %+v", j)
	}
	id, _ = r.Enqueue(context.Background(), "test.permanent", nil)
	waitJob(t, st, id, func(j *meta.Job) bool { return j.State == "done" })
	if perm.Load() != 1 {
		t.Errorf("permanent error retried: %d calls", perm.Load())
	}
}

func TestBackoff(t *testing.T) {
	r := &Runner{cfg: Config{BackoffBase: time.Second, BackoffMax: 10 * time.Second}}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 50: 10 * time.Second} {
		if got := r.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{}
	if err := c.Validate(); err != nil || c.Workers != 1 || c.MaxAttempts != 5 {
		t.Errorf("defaults: %+v %v", c, err)
	}
	if err := (&Config{Workers: -1}).Validate(); err == nil {
		t.Error("negative workers accepted")
	}
}
