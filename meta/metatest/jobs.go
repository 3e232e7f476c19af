package metatest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

func enqueue(t *testing.T, s meta.Store, kind string, runAt time.Time, maxAttempts int) *meta.Job {
	t.Helper()
	j := &meta.Job{Kind: kind, Payload: []byte(`{"n":1}`), RunAt: runAt, MaxAttempts: maxAttempts}
	must(t, "EnqueueJob", s.EnqueueJob(ctx, j))
	return j
}

func claimIDs(jobs []meta.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

func testJobClaim(t *testing.T, s meta.Store) {
	past := time.Now().Add(-time.Minute)
	a1 := enqueue(t, s, "a", past.Add(-time.Second), 3)
	wantUUIDv7(t, a1.ID)
	equal(t, "state after enqueue", a1.State, "queued")
	wantStored(t, "CreatedAt", a1.CreatedAt)
	got, err := s.FindJob(ctx, a1.ID)
	must(t, "FindJob", err)
	if !bytes.Equal(got.Payload, a1.Payload) {
		t.Fatalf("payload %q, want %q", got.Payload, a1.Payload)
	}
	got.Payload = a1.Payload
	equal(t, "FindJob", got, a1)
	_, err = s.FindJob(ctx, "no-such-job")
	wantKind(t, "FindJob unknown", err, imgmgr.KindNotFound)

	a2 := enqueue(t, s, "a", past, 3)
	aLater := enqueue(t, s, "a", time.Now().Add(time.Hour), 3)
	b1 := enqueue(t, s, "b", past, 3)
	def := enqueue(t, s, "c", time.Time{}, 0)
	equal(t, "default MaxAttempts", def.MaxAttempts, 5)

	jobs, err := s.ClaimJobs(ctx, []string{"a"}, 10, time.Minute)
	must(t, "ClaimJobs", err)
	equal(t, "claimed: due jobs of the kind, oldest RunAt first", claimIDs(jobs), []string{a1.ID, a2.ID})
	for _, j := range jobs {
		if j.State != "running" || j.Attempts != 1 || !j.LeaseUntil.After(time.Now()) {
			t.Fatalf("claimed job: state %q attempts %d lease %v", j.State, j.Attempts, j.LeaseUntil)
		}
		found, err := s.FindJob(ctx, j.ID)
		must(t, "FindJob", err)
		equal(t, "stored claimed job", found, &j)
	}
	jobs, err = s.ClaimJobs(ctx, []string{"a"}, 10, time.Minute)
	must(t, "ClaimJobs again", err)
	equal(t, "claimed while leased or not due", len(jobs), 0)

	jobs, err = s.ClaimJobs(ctx, nil, 1, time.Minute)
	must(t, "ClaimJobs any kind", err)
	equal(t, "claimed with limit 1, any kind", claimIDs(jobs), []string{b1.ID})
	jobs, err = s.ClaimJobs(ctx, []string{"b", "c"}, 5, time.Minute)
	must(t, "ClaimJobs kinds", err)
	equal(t, "claimed kinds b, c", claimIDs(jobs), []string{def.ID})
	_ = aLater

	_, err = s.ClaimJobs(ctx, nil, 0, time.Minute)
	wantKind(t, "ClaimJobs limit 0", err, imgmgr.KindInvalid)
	wantKind(t, "EnqueueJob without kind", s.EnqueueJob(ctx, &meta.Job{}), imgmgr.KindInvalid)
}

// Concurrent claimers never get the same job, and together get them all.
func testJobConcurrentClaim(t *testing.T, s meta.Store) {
	const n = 40
	past := time.Now().Add(-time.Second)
	want := map[string]bool{}
	for range n {
		want[enqueue(t, s, "work", past, 3).ID] = true
	}
	var (
		mu    sync.Mutex
		got   = map[string]int{}
		wg    sync.WaitGroup
		errs  = make(chan error, 4)
		start = make(chan struct{})
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				jobs, err := s.ClaimJobs(ctx, []string{"work"}, 3, time.Hour)
				if err != nil {
					errs <- err
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					got[j.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ClaimJobs: %v", err)
	}
	for id, c := range got {
		if c != 1 {
			t.Fatalf("job %s claimed %d times", id, c)
		}
		if !want[id] {
			t.Fatalf("claimed unknown job %s", id)
		}
	}
	equal(t, "jobs claimed", len(got), n)
}

func testJobLeaseExpiry(t *testing.T, s meta.Store) {
	j := enqueue(t, s, "lease", time.Now().Add(-time.Second), 2)
	jobs, err := s.ClaimJobs(ctx, []string{"lease"}, 1, time.Millisecond)
	must(t, "ClaimJobs", err)
	equal(t, "first claim", claimIDs(jobs), []string{j.ID})
	time.Sleep(20 * time.Millisecond) // let the 1ms lease run out
	jobs, err = s.ClaimJobs(ctx, []string{"lease"}, 1, time.Millisecond)
	must(t, "ClaimJobs after lease expiry", err)
	equal(t, "claim after lease expiry", claimIDs(jobs), []string{j.ID})
	equal(t, "attempts after second claim", jobs[0].Attempts, 2)

	// The lease ran out after the last attempt: the job fails, nobody gets it.
	time.Sleep(20 * time.Millisecond)
	jobs, err = s.ClaimJobs(ctx, []string{"lease"}, 1, time.Minute)
	must(t, "ClaimJobs after last lease expiry", err)
	equal(t, "claimed past MaxAttempts", len(jobs), 0)
	got, err := s.FindJob(ctx, j.ID)
	must(t, "FindJob", err)
	equal(t, "state after the last lease ran out", got.State, "failed")
	if got.LastError == "" {
		t.Fatal("no LastError on a job whose lease ran out")
	}
}

func testJobCompleteFail(t *testing.T, s meta.Store) {
	past := time.Now().Add(-time.Second)
	done := enqueue(t, s, "x", past, 3)
	retry := enqueue(t, s, "y", past, 3)
	twice := enqueue(t, s, "z", past, 2)
	claim := func(kind string, want *meta.Job) meta.Job {
		t.Helper()
		jobs, err := s.ClaimJobs(ctx, []string{kind}, 5, time.Hour)
		must(t, "ClaimJobs "+kind, err)
		if want == nil {
			equal(t, "claimed "+kind, len(jobs), 0)
			return meta.Job{}
		}
		equal(t, "claimed "+kind, claimIDs(jobs), []string{want.ID})
		return jobs[0]
	}
	state := func(id string) *meta.Job {
		t.Helper()
		j, err := s.FindJob(ctx, id)
		must(t, "FindJob", err)
		return j
	}

	claim("x", done)
	must(t, "CompleteJob", s.CompleteJob(ctx, done.ID))
	equal(t, "state after complete", state(done.ID).State, "done")
	wantKind(t, "CompleteJob unknown", s.CompleteJob(ctx, "no-such-job"), imgmgr.KindNotFound)

	// Fail with a later retry: queued again, not claimable before retryAt.
	claim("y", retry)
	retryAt := time.Now().Add(time.Hour).Add(777 * time.Nanosecond)
	must(t, "FailJob", s.FailJob(ctx, retry.ID, "boom", retryAt))
	j := state(retry.ID)
	if j.State != "queued" || j.LastError != "boom" || j.Attempts != 1 || !j.RunAt.Equal(retryAt.Truncate(time.Microsecond)) {
		t.Fatalf("after FailJob: state %q error %q attempts %d runAt %v (want queued, boom, 1, %v)",
			j.State, j.LastError, j.Attempts, j.RunAt, retryAt)
	}
	claim("y", nil)
	wantKind(t, "FailJob unknown", s.FailJob(ctx, "no-such-job", "x", retryAt), imgmgr.KindNotFound)

	// Fail with a past retry: claimable at once; after MaxAttempts, failed.
	claim("z", twice)
	must(t, "FailJob 1", s.FailJob(ctx, twice.ID, "first", time.Now().Add(-time.Second)))
	equal(t, "attempts on retry", claim("z", twice).Attempts, 2)
	must(t, "FailJob 2", s.FailJob(ctx, twice.ID, "second", time.Now().Add(-time.Second)))
	j = state(twice.ID)
	equal(t, "state after the last attempt", fmt.Sprint(j.State, " ", j.LastError, " ", j.Attempts), "failed second 2")
	claim("z", nil)
}

// Many goroutines writing at once all succeed (SQLite must not report
// SQLITE_BUSY).
func testConcurrentWrites(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "busy")
	const writers, each = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				im := &imgmgr.Image{OwnerID: u.ID, SHA256: randomSHA(), Title: fmt.Sprint(w, "-", i), Tags: []string{"t"}}
				if err := s.CreateImage(ctx, im); err != nil {
					errs <- err
					continue
				}
				if _, err := s.UpdateImage(ctx, im.ID, imgmgr.ImageUpdate{AddTags: []string{"u"}}); err != nil {
					errs <- err
				}
				if _, err := s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: u.ID, Limit: 5}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent write: %v", err)
	}
	count, _, err := s.ImageStats(ctx, u.ID)
	must(t, "ImageStats", err)
	equal(t, "images written", count, writers*each)
	tags, err := s.ListTags(ctx, u.ID)
	must(t, "ListTags", err)
	equal(t, "tags written", tags, []imgmgr.TagCount{{Tag: "t", Count: writers * each}, {Tag: "u", Count: writers * each}})
}
