package cdntest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/cdn"
)

// Setup starts a vendor test server and a provider pointed at it; with
// wrongSecret the provider holds a credential the vendor refuses.
type Setup func(t *testing.T, wrongSecret bool) (cdn.Provider, Vendor)

// Run checks a provider against its vendor's test server: requests at the
// documented batch limit are accepted exactly as sent, Batches keeps every
// request within the limits, the rate-limit answer is a retryable error
// with its Retry-After, bad credentials are a permanent error, and the
// optional abilities (tags, prefetch, task status) work through their
// lifecycle.
func Run(t *testing.T, setup Setup) {
	t.Run("PurgeAtLimit", func(t *testing.T) { testPurgeAtLimit(t, setup) })
	t.Run("Batches", func(t *testing.T) { testBatches(t, setup) })
	t.Run("RateLimited", func(t *testing.T) { testRateLimited(t, setup) })
	t.Run("BadCredentials", func(t *testing.T) { testBadCredentials(t, setup) })
	t.Run("Tags", func(t *testing.T) { testTags(t, setup) })
	t.Run("Prefetch", func(t *testing.T) { testPrefetch(t, setup) })
	t.Run("Status", func(t *testing.T) { testStatus(t, setup) })
}

// Objects returns n distinct objects under base, every third negotiated
// by Accept.
func Objects(base string, n int) []cdn.Object {
	objs := make([]cdn.Object, n)
	for i := range objs {
		objs[i].URL = fmt.Sprintf("%s/img/sig%06d/rs:fit:800:0/0190aaaa-bbbb-7ccc-8ddd-%012d", base, i, i)
		if i%3 == 0 {
			objs[i].Accept = "image/avif,image/webp,*/*"
		}
	}
	return objs
}

// Keys are the Vendor record forms of objects; withAccept keeps the Accept.
func Keys(objs []cdn.Object, withAccept bool) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.URL
		if withAccept && o.Accept != "" {
			out[i] += " " + o.Accept
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// batched cuts objs by the provider's URL limits.
func batched(l cdn.Limits, objs []cdn.Object) [][]cdn.Object {
	var out [][]cdn.Object
	for _, r := range cdn.Batches(len(objs), l, 64, func(i int) int { return l.ObjectBytes(objs[i].URL) }) {
		out = append(out, objs[r[0]:r[1]])
	}
	return out
}

func limitCount(l cdn.Limits) int {
	if l.MaxObjects > 0 {
		return l.MaxObjects
	}
	return 1000 // body-bound vendors: Batches cuts by size
}

func checkPurged(t *testing.T, v Vendor, objs []cdn.Object) {
	t.Helper()
	got := v.Purged()
	want, bare := Keys(objs, true), Keys(objs, false)
	if !slices.Equal(slices.Compact(got), want) && !slices.Equal(slices.Compact(got), bare) {
		t.Fatalf("vendor purged %d objects %.3q..., want %d %.3q...", len(got), got, len(want), want)
	}
}

func testPurgeAtLimit(t *testing.T, setup Setup) {
	p, v := setup(t, false)
	objs := Objects("https://img.example.com", limitCount(p.URLLimits()))
	bs := batched(p.URLLimits(), objs)
	if p.URLLimits().MaxObjects > 0 && len(bs) != 1 {
		t.Fatalf("a batch at MaxObjects was cut into %d", len(bs))
	}
	for _, b := range bs {
		if _, err := p.PurgeURLs(context.Background(), b); err != nil {
			t.Fatalf("PurgeURLs at the limit: %v", err)
		}
	}
	checkPurged(t, v, objs)
	if v.Refused() != 0 {
		t.Fatalf("vendor refused %d requests", v.Refused())
	}
}

func testBatches(t *testing.T, setup Setup) {
	p, v := setup(t, false)
	n := limitCount(p.URLLimits())*5/2 + 1
	objs := Objects("https://img.example.com", n)
	bs := batched(p.URLLimits(), objs)
	for _, b := range bs {
		if _, err := p.PurgeURLs(context.Background(), b); err != nil {
			t.Fatalf("PurgeURLs: %v", err)
		}
	}
	checkPurged(t, v, objs)
	if v.Refused() != 0 || v.Requests() != len(bs) {
		t.Fatalf("%d requests (%d refused), want %d accepted", v.Requests(), v.Refused(), len(bs))
	}
}

func testRateLimited(t *testing.T, setup Setup) {
	p, v := setup(t, false)
	v.Throttle(1)
	_, err := p.PurgeURLs(context.Background(), Objects("https://img.example.com", 1))
	retry, after := cdn.Retryable(err)
	if err == nil || !retry || after <= 0 || !cdn.RateLimited(err) {
		t.Fatalf("throttled call: err %v, retry %v after %v; want a rate-limit error with a delay", err, retry, after)
	}
	if _, err := p.PurgeURLs(context.Background(), Objects("https://img.example.com", 1)); err != nil {
		t.Fatalf("after the throttle: %v", err)
	}
}

func testBadCredentials(t *testing.T, setup Setup) {
	p, v := setup(t, true)
	_, err := p.PurgeURLs(context.Background(), Objects("https://img.example.com", 1))
	var e *cdn.Error
	if !errors.As(err, &e) || e.Retry || e.Status/100 != 4 {
		t.Fatalf("bad credentials: %v; want a permanent 4xx *cdn.Error", err)
	}
	if len(v.Purged()) != 0 {
		t.Fatal("the vendor purged with bad credentials")
	}
}

func testTags(t *testing.T, setup Setup) {
	p, v := setup(t, false)
	tp, ok := p.(cdn.TagPurger)
	if !ok {
		t.Skip("no tag purge")
	}
	tags := make([]string, limitCount(tp.TagLimits())+7)
	for i := range tags {
		tags[i] = fmt.Sprintf("img-0190aaaa-bbbb-7ccc-8ddd-%012d", i)
	}
	l := tp.TagLimits()
	for _, r := range cdn.Batches(len(tags), l, 64, func(i int) int { return l.ObjectBytes(tags[i]) }) {
		if _, err := tp.PurgeTags(context.Background(), tags[r[0]:r[1]]); err != nil {
			t.Fatalf("PurgeTags: %v", err)
		}
	}
	want := make([]string, len(tags))
	for i, tg := range tags {
		want[i] = "tag:" + tg
	}
	slices.Sort(want)
	if got := v.Purged(); !slices.Equal(got, want) || v.Refused() != 0 {
		t.Fatalf("vendor purged %d tags (%d refused), want %d", len(got), v.Refused(), len(want))
	}
}

func testPrefetch(t *testing.T, setup Setup) {
	p, v := setup(t, false)
	pf, ok := p.(cdn.Prefetcher)
	if !ok {
		t.Skip("no prefetch")
	}
	objs := Objects(v.EdgeURL(), 5)
	rc, err := pf.Prefetch(context.Background(), objs)
	if err != nil {
		t.Fatalf("Prefetch: %v", err)
	}
	if !rc.Done {
		waitDone(t, p, v, rc)
	}
	got := slices.Compact(v.Prefetched())
	if want, bare := Keys(objs, true), Keys(objs, false); !slices.Equal(got, want) && !slices.Equal(got, bare) {
		t.Fatalf("vendor prefetched %q, want %q", got, want)
	}
}

func testStatus(t *testing.T, setup Setup) {
	p, v := setup(t, false)
	if _, ok := p.(cdn.StatusChecker); !ok {
		t.Skip("no task status")
	}
	rc, err := p.PurgeURLs(context.Background(), Objects("https://img.example.com", 3))
	if err != nil || rc.TaskID == "" {
		t.Fatalf("PurgeURLs: %v, task %q", err, rc.TaskID)
	}
	waitDone(t, p, v, rc)
}

// waitDone checks a task is pending, completes the vendor's work and
// checks it is then done.
func waitDone(t *testing.T, p cdn.Provider, v Vendor, rc cdn.Receipt) {
	t.Helper()
	sc, ok := p.(cdn.StatusChecker)
	if !ok {
		if rc.Estimate <= 0 {
			t.Fatal("a task neither done, nor with an estimate, nor with a status to poll")
		}
		return
	}
	st, err := sc.TaskStates(context.Background(), []string{rc.TaskID})
	if err != nil || st[rc.TaskID] != cdn.VendorPending {
		t.Fatalf("fresh task: %v %v, want pending", st, err)
	}
	v.Complete()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err = sc.TaskStates(context.Background(), []string{rc.TaskID})
		if err == nil && st[rc.TaskID] == cdn.VendorDone {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("completed task: %v %v, want done", st, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
