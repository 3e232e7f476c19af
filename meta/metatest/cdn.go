package metatest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

func newCDNTasks(t *testing.T, s meta.Store, provider string, n int) []*meta.CDNTask {
	t.Helper()
	ts := make([]*meta.CDNTask, n)
	for i := range ts {
		ts[i] = &meta.CDNTask{Provider: provider, Kind: "purge_tag", Items: []byte(`["img-1"]`), Reason: "test"}
	}
	must(t, "CreateCDNTasks", s.CreateCDNTasks(context.Background(), ts))
	return ts
}

// testCDNTaskLifecycle walks a task from queued to done and checks what
// is stored at each step.
func testCDNTaskLifecycle(t *testing.T, s meta.Store) {
	ctx := context.Background()
	ts := newCDNTasks(t, s, "akamai", 2)
	if ts[0].ID == "" || ts[0].State != meta.CDNQueued {
		t.Fatalf("created task %+v", ts[0])
	}
	claimed, err := s.ClaimCDNTasks(ctx, "akamai", 10, time.Minute)
	must(t, "ClaimCDNTasks", err)
	if len(claimed) != 2 || claimed[0].State != meta.CDNSubmitted || claimed[0].Attempts != 1 || claimed[0].Claim == "" {
		t.Fatalf("claimed %+v", claimed)
	}
	if again, _ := s.ClaimCDNTasks(ctx, "akamai", 10, time.Minute); len(again) != 0 {
		t.Fatalf("leased tasks claimed again: %d", len(again))
	}
	if other, _ := s.ClaimCDNTasks(ctx, "aliyun", 10, time.Minute); len(other) != 0 {
		t.Fatal("another provider's tasks were claimed")
	}
	c := claimed[0]
	c.State, c.VendorIDs, c.SubmittedAt, c.NextAttemptAt = meta.CDNInProgress, []string{"p-1", "p-2"}, time.Now(), time.Now().Add(-time.Second)
	lost, err := s.SaveCDNTasks(ctx, []meta.CDNTask{c})
	must(t, "SaveCDNTasks", err)
	if len(lost) != 0 {
		t.Fatalf("lost %v", lost)
	}
	got, err := s.FindCDNTask(ctx, c.ID)
	must(t, "FindCDNTask", err)
	if got.State != meta.CDNInProgress || !slices.Equal(got.VendorIDs, c.VendorIDs) || got.SubmittedAt.IsZero() || got.Claim != "" {
		t.Fatalf("saved task %+v", got)
	}
	polled, err := s.ClaimCDNTasks(ctx, "akamai", 10, time.Minute)
	must(t, "ClaimCDNTasks in_progress", err)
	if len(polled) != 1 || polled[0].ID != c.ID || polled[0].State != meta.CDNInProgress || polled[0].Attempts != 1 {
		t.Fatalf("due in-progress task claimed as %+v", polled)
	}
	p := polled[0]
	p.State, p.DoneAt = meta.CDNDone, time.Now()
	_, err = s.SaveCDNTasks(ctx, []meta.CDNTask{p})
	must(t, "SaveCDNTasks done", err)
	done, err := s.ListCDNTasks(ctx, meta.CDNTaskFilter{State: meta.CDNDone})
	must(t, "ListCDNTasks", err)
	if len(done) != 1 || done[0].ID != c.ID || done[0].DoneAt.IsZero() {
		t.Fatalf("done tasks %+v", done)
	}
	counts, err := s.CountCDNTasks(ctx)
	must(t, "CountCDNTasks", err)
	want := []meta.CDNTaskCount{{Provider: "akamai", Kind: "purge_tag", State: meta.CDNDone, N: 1},
		{Provider: "akamai", Kind: "purge_tag", State: meta.CDNSubmitted, N: 1}}
	if !slices.Equal(counts, want) {
		t.Fatalf("counts %v, want %v", counts, want)
	}
	_, err = s.FindCDNTask(ctx, "missing")
	wantKind(t, "FindCDNTask missing", err, imgmgr.KindNotFound)
}

// testCDNLeaseLapse: a claimed task whose runner died is claimed again
// once its lease lapses, and the dead runner's late save is refused.
func testCDNLeaseLapse(t *testing.T, s meta.Store) {
	ctx := context.Background()
	newCDNTasks(t, s, "cloudflare", 1)
	first, err := s.ClaimCDNTasks(ctx, "cloudflare", 1, 50*time.Millisecond)
	must(t, "ClaimCDNTasks", err)
	time.Sleep(80 * time.Millisecond)
	second, err := s.ClaimCDNTasks(ctx, "cloudflare", 1, time.Minute)
	must(t, "ClaimCDNTasks after lapse", err)
	if len(first) != 1 || len(second) != 1 || second[0].ID != first[0].ID || second[0].Attempts != 2 ||
		second[0].State != meta.CDNSubmitted || second[0].Claim == first[0].Claim {
		t.Fatalf("first %+v, second %+v", first, second)
	}
	stale := first[0]
	stale.State = meta.CDNDone
	lost, err := s.SaveCDNTasks(ctx, []meta.CDNTask{stale})
	must(t, "SaveCDNTasks stale", err)
	if len(lost) != 1 {
		t.Fatal("a save under a lapsed claim was accepted")
	}
	retry := second[0]
	retry.State, retry.NextAttemptAt, retry.Error = meta.CDNQueued, time.Now().Add(time.Hour), "429"
	if lost, err := s.SaveCDNTasks(ctx, []meta.CDNTask{retry}); err != nil || len(lost) != 0 {
		t.Fatalf("SaveCDNTasks retry: %v %v", lost, err)
	}
	if again, _ := s.ClaimCDNTasks(ctx, "cloudflare", 1, time.Minute); len(again) != 0 {
		t.Fatal("a task was claimed before its next attempt")
	}
}

// testCDNConcurrentClaim: concurrent claimers share the due tasks without
// overlap.
func testCDNConcurrentClaim(t *testing.T, s meta.Store) {
	newCDNTasks(t, s, "aliyun", 60)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ts, err := s.ClaimCDNTasks(context.Background(), "aliyun", 7, time.Minute)
				if err != nil {
					t.Errorf("ClaimCDNTasks: %v", err)
					return
				}
				if len(ts) == 0 {
					return
				}
				mu.Lock()
				for _, x := range ts {
					seen[x.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 60 {
		t.Fatalf("claimed %d distinct tasks, want 60", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("task %s claimed %d times", id, n)
		}
	}
}

func testVariantURLs(t *testing.T, s meta.Store) {
	ctx := context.Background()
	must(t, "PutVariantURL", s.PutVariantURL(ctx, meta.VariantURL{ImageID: "a", Path: "/img/s/w:1/a", Negotiated: true}))
	must(t, "PutVariantURL again", s.PutVariantURL(ctx, meta.VariantURL{ImageID: "a", Path: "/img/s/w:1/a", Negotiated: true}))
	must(t, "PutVariantURL ext", s.PutVariantURL(ctx, meta.VariantURL{ImageID: "a", Path: "/img/t/w:1/a.webp"}))
	must(t, "PutVariantURL other", s.PutVariantURL(ctx, meta.VariantURL{ImageID: "b", Path: "/img/u/w:1/b"}))
	vs, err := s.ListVariantURLs(ctx, "a")
	must(t, "ListVariantURLs", err)
	if len(vs) != 2 || vs[0].Path != "/img/s/w:1/a" || !vs[0].Negotiated || vs[1].Negotiated {
		t.Fatalf("variant URLs %+v", vs)
	}
	must(t, "DeleteVariantURLs", s.DeleteVariantURLs(ctx, "a"))
	if vs, _ := s.ListVariantURLs(ctx, "a"); len(vs) != 0 {
		t.Fatalf("after delete %+v", vs)
	}
	if vs, _ := s.ListVariantURLs(ctx, "b"); len(vs) != 1 {
		t.Fatal("another image's URLs were deleted")
	}
}
