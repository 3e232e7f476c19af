package cdn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/cdn"
	"github.com/imgmgr/imgmgr/cdn/akamai"
	"github.com/imgmgr/imgmgr/cdn/akamai/akamaitest"
	"github.com/imgmgr/imgmgr/cdn/aliyun"
	"github.com/imgmgr/imgmgr/cdn/aliyun/aliyuntest"
	"github.com/imgmgr/imgmgr/cdn/cloudflare"
	"github.com/imgmgr/imgmgr/cdn/cloudflare/cloudflaretest"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/sqlite"
)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func enqueue(t *testing.T, s cdn.Store, provider, kind string, items ...any) []*meta.CDNTask {
	t.Helper()
	ts := make([]*meta.CDNTask, len(items))
	for i, it := range items {
		b, _ := json.Marshal(it)
		ts[i] = &meta.CDNTask{Provider: provider, Kind: kind, Items: b, Reason: "test"}
	}
	if err := s.CreateCDNTasks(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	return ts
}

func runUntilIdle(t *testing.T, r *cdn.Runner, s cdn.Store, deadline time.Duration) {
	t.Helper()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		r.RunOnce(context.Background())
		counts, _ := s.CountCDNTasks(context.Background())
		open := 0
		for _, c := range counts {
			if c.State != meta.CDNDone && c.State != meta.CDNFailed {
				open += c.N
			}
		}
		if open == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	open, _ := s.ListCDNTasks(context.Background(), meta.CDNTaskFilter{Limit: 1})
	t.Fatalf("tasks still open at the deadline: %v, e.g. %+v", states(t, s), open)
}

func states(t *testing.T, s cdn.Store) map[string]int {
	t.Helper()
	counts, err := s.CountCDNTasks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int{}
	for _, c := range counts {
		m[c.State] += c.N
	}
	return m
}

func newRunner(t *testing.T, p cdn.Provider, s cdn.Store, cfg cdn.RunnerConfig) *cdn.Runner {
	t.Helper()
	svc, err := cdn.NewService(cdn.Config{PublicBaseURL: "https://img.example.com"}, p, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cdn.NewRunner(cfg, svc, nil, nil)
}

func tagItems(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = []string{cdn.ImageTag(fmt.Sprintf("0190aaaa-bbbb-7ccc-8ddd-%012d", i))}
	}
	return out
}

// TestCoalesceTenThousand: 10,000 images' purges go out in the fewest
// requests each vendor's limits allow, with no 429. Under the race
// detector (make test) it runs 2,000: the request arithmetic is the same,
// and 10,000 race-instrumented task updates on a busy machine outlast any
// sensible safety deadline. The figures in the notes come from plain runs.
func TestCoalesceTenThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	n := 10000
	if raceEnabled {
		n = 2000
	}
	t.Run("cloudflare", func(t *testing.T) {
		srv := cloudflaretest.New(cloudflaretest.Options{PerSecond: 50})
		defer srv.Close()
		p, _ := cloudflare.New(cloudflare.Config{APIBase: srv.APIBase(), ZoneID: "zone-1", APIToken: "token-1"})
		coalesce(t, srv, p, cdn.KindPurgeTag, tagItems(n), n/cloudflare.MaxPerRequest, 10)
	})
	t.Run("akamai", func(t *testing.T) {
		srv := akamaitest.New(akamaitest.Options{Scale: 100, EstimatedSeconds: 1})
		defer srv.Close()
		p, _ := akamai.New(akamai.Config{BaseURL: srv.URL, Credentials: akamai.Credentials{ClientToken: "ct-1", ClientSecret: "secret-1", AccessToken: "at-1"}})
		tagBytes := len(`"` + cdn.ImageTag("0190aaaa-bbbb-7ccc-8ddd-000000000000") + `",`)
		coalesce(t, srv, p, cdn.KindPurgeTag, tagItems(n), (n*tagBytes+akamai.MaxBodyBytes-1)/(akamai.MaxBodyBytes-64), 100)
	})
	t.Run("aliyun", func(t *testing.T) {
		srv := aliyuntest.New(aliyuntest.Options{CompleteAfter: 200 * time.Millisecond})
		defer srv.Close()
		p, _ := aliyun.New(aliyun.Config{Endpoint: srv.URL, AccessKeyID: "id-1", AccessKeySecret: "secret-1"})
		items := make([]any, n)
		for i := range items {
			items[i] = []cdn.Object{{URL: fmt.Sprintf("https://img.example.com/img/s%d/pr:thumb/0190aaaa-bbbb-7ccc-8ddd-%012d", i, i)}}
		}
		coalesce(t, srv, p, cdn.KindPurgeURL, items, n/1000, 1)
	})
}

type vendor interface {
	Requests() int
	Limited() int
	Purged() []string
}

func coalesce(t *testing.T, srv vendor, p cdn.Provider, kind string, items []any, wantRequests int, scale float64) {
	s := openStore(t)
	tasks := enqueue(t, s, p.Name(), kind, items...)
	r := newRunner(t, p, s, cdn.RunnerConfig{RateScale: scale, PollEvery: 100 * time.Millisecond})
	start := time.Now()
	runUntilIdle(t, r, s, 3*time.Minute) // a safety net for a hang, not a speed bound
	el := time.Since(start)
	if st := states(t, s); st[meta.CDNDone] != len(items) {
		t.Fatalf("states %v", st)
	}
	if got := len(srv.Purged()); got != len(items) {
		t.Fatalf("vendor purged %d objects, want %d", got, len(items))
	}
	p50, p99 := latencies(t, s, tasks)
	// Purge requests only: Requests also counts aliyun's status polls.
	t.Logf("%s: %d tasks in %v (%.0f tasks/s), %d vendor calls (want %d purge requests), %d rate-limited, trigger→done p50 %v p99 %v",
		p.Name(), len(items), el.Round(time.Millisecond), float64(len(items))/el.Seconds(), srv.Requests(), wantRequests,
		srv.Limited(), p50, p99)
	if p.Name() != "aliyun" && srv.Requests() != wantRequests {
		t.Fatalf("%d vendor requests (%d rate-limited), want %d", srv.Requests(), srv.Limited(), wantRequests)
	}
}

// latencies are the p50 and p99 of trigger→done over the tasks.
func latencies(t *testing.T, s cdn.Store, tasks []*meta.CDNTask) (p50, p99 time.Duration) {
	t.Helper()
	var ds []time.Duration
	for _, tk := range tasks {
		got, err := s.FindCDNTask(context.Background(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		ds = append(ds, got.DoneAt.Sub(got.CreatedAt))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	at := func(q float64) time.Duration {
		return ds[min(len(ds)-1, int(q*float64(len(ds))))].Round(time.Millisecond)
	}
	return at(0.50), at(0.99)
}

// TestRetryAfter: a 429 queues the task for the vendor's Retry-After and
// pauses the runner; the task is done once the vendor lets it through.
func TestRetryAfter(t *testing.T) {
	srv := cloudflaretest.New(cloudflaretest.Options{})
	defer srv.Close()
	p, _ := cloudflare.New(cloudflare.Config{APIBase: srv.APIBase(), ZoneID: "zone-1", APIToken: "token-1"})
	s := openStore(t)
	ts := enqueue(t, s, "cloudflare", cdn.KindPurgeTag, []string{"img-1"})
	r := newRunner(t, p, s, cdn.RunnerConfig{})
	srv.Throttle(1)
	r.RunOnce(context.Background())
	got, _ := s.FindCDNTask(context.Background(), ts[0].ID)
	if got.State != meta.CDNQueued || time.Until(got.NextAttemptAt) < 900*time.Millisecond || got.Error == "" {
		t.Fatalf("after a 429: %+v", got)
	}
	if n := r.RunOnce(context.Background()); n != 0 {
		t.Fatal("the runner sent again before Retry-After")
	}
	time.Sleep(time.Until(got.NextAttemptAt) + 10*time.Millisecond)
	runUntilIdle(t, r, s, 5*time.Second)
	if got, _ = s.FindCDNTask(context.Background(), ts[0].ID); got.State != meta.CDNDone || got.Attempts != 2 || srv.Requests() != 2 {
		t.Fatalf("after the retry: %+v, %d requests", got, srv.Requests())
	}
}

// TestReclaimAfterRunnerDied: a task claimed by a runner that died is
// claimed again when its lease lapses and done once.
func TestReclaimAfterRunnerDied(t *testing.T) {
	srv := akamaitest.New(akamaitest.Options{EstimatedSeconds: 1})
	defer srv.Close()
	p, _ := akamai.New(akamai.Config{BaseURL: srv.URL, Credentials: akamai.Credentials{ClientToken: "ct-1", ClientSecret: "secret-1", AccessToken: "at-1"}})
	s := openStore(t)
	ts := enqueue(t, s, "akamai", cdn.KindPurgeURL, []cdn.Object{{URL: "https://img.example.com/img/a/w:1/x"}})
	if dead, err := s.ClaimCDNTasks(context.Background(), "akamai", 10, 100*time.Millisecond); err != nil || len(dead) != 1 {
		t.Fatalf("claim by the dying runner: %v %v", dead, err)
	}
	r := newRunner(t, p, s, cdn.RunnerConfig{})
	if r.RunOnce(context.Background()) != 0 {
		t.Fatal("a leased task was taken")
	}
	time.Sleep(150 * time.Millisecond)
	r.RunOnce(context.Background())
	got, _ := s.FindCDNTask(context.Background(), ts[0].ID)
	if got.State != meta.CDNInProgress || len(got.VendorIDs) != 1 || time.Until(got.NextAttemptAt) < 500*time.Millisecond {
		t.Fatalf("after the re-claim: %+v", got)
	}
	time.Sleep(time.Until(got.NextAttemptAt))
	runUntilIdle(t, r, s, 5*time.Second)
	if got, _ = s.FindCDNTask(context.Background(), ts[0].ID); got.State != meta.CDNDone || srv.Requests() != 1 {
		t.Fatalf("final %+v, %d requests", got, srv.Requests())
	}
}

// TestPollUntilComplete: an Alibaba Cloud task is in progress until the
// vendor reports it Complete.
func TestPollUntilComplete(t *testing.T) {
	srv := aliyuntest.New(aliyuntest.Options{})
	defer srv.Close()
	p, _ := aliyun.New(aliyun.Config{Endpoint: srv.URL, AccessKeyID: "id-1", AccessKeySecret: "secret-1"})
	s := openStore(t)
	ts := enqueue(t, s, "aliyun", cdn.KindPurgeURL, []cdn.Object{{URL: "https://img.example.com/img/a/w:1/x"}},
		[]cdn.Object{{URL: "https://img.example.com/img/b/w:1/y"}})
	r := newRunner(t, p, s, cdn.RunnerConfig{PollEvery: 50 * time.Millisecond})
	r.RunOnce(context.Background())
	time.Sleep(60 * time.Millisecond)
	r.RunOnce(context.Background())
	for _, tk := range ts {
		got, _ := s.FindCDNTask(context.Background(), tk.ID)
		if got.State != meta.CDNInProgress || len(got.VendorIDs) != 1 {
			t.Fatalf("before completion: %+v", got)
		}
	}
	srv.Complete()
	time.Sleep(60 * time.Millisecond)
	runUntilIdle(t, r, s, 5*time.Second)
	ids := map[string]bool{}
	for _, tk := range ts {
		got, _ := s.FindCDNTask(context.Background(), tk.ID)
		ids[got.VendorIDs[0]] = true
	}
	if len(ids) != 1 {
		t.Fatalf("two tasks claimed together should share one vendor request, got ids %v", keys(ids))
	}
}

func keys(m map[string]bool) []string {
	out := []string{}
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestDailyQuotaWaits: Alibaba Cloud's daily quota answer leaves the tasks
// queued until the quota renews (the next Beijing midnight), without
// failing them.
func TestDailyQuotaWaits(t *testing.T) {
	srv := aliyuntest.New(aliyuntest.Options{RefreshQuota: 1})
	defer srv.Close()
	p, _ := aliyun.New(aliyun.Config{Endpoint: srv.URL, AccessKeyID: "id-1", AccessKeySecret: "secret-1"})
	s := openStore(t)
	ts := enqueue(t, s, "aliyun", cdn.KindPurgeURL, []cdn.Object{{URL: "https://img.example.com/img/a/w:1/x"}},
		[]cdn.Object{{URL: "https://img.example.com/img/b/w:1/y"}})
	r := newRunner(t, p, s, cdn.RunnerConfig{MaxAttempts: 1})
	r.RunOnce(context.Background())
	for _, tk := range ts {
		got, _ := s.FindCDNTask(context.Background(), tk.ID)
		if got.State != meta.CDNQueued || !strings.Contains(got.Error, "QuotaExceeded") || time.Until(got.NextAttemptAt) < time.Minute {
			t.Fatalf("after the quota answer: %+v", got)
		}
	}
	if srv.Limited() != 1 {
		t.Fatalf("%d quota answers, want 1", srv.Limited())
	}
}
