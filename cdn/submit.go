package cdn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/imgmgr/imgmgr/meta"
)

// item is one object or tag of a claimed task, flattened for batching.
type item struct {
	task int
	obj  Object
	tag  string
}

func (it item) key() string {
	if it.tag != "" {
		return it.tag
	}
	return it.obj.URL
}

// sendFunc sends one vendor request of items.
type sendFunc func(ctx context.Context, items []item) (Receipt, error)

// sender is the vendor call and limits of a task kind; ok is false when
// the provider cannot do that kind.
func (r *Runner) sender(kind string) (sendFunc, Limits, bool) {
	objs := func(items []item) []Object {
		out := make([]Object, len(items))
		for i, it := range items {
			out[i] = it.obj
		}
		return out
	}
	switch kind {
	case KindPurgeURL:
		return func(ctx context.Context, items []item) (Receipt, error) { return r.p.PurgeURLs(ctx, objs(items)) }, r.p.URLLimits(), true
	case KindPurgeTag:
		if tp, ok := r.p.(TagPurger); ok {
			return func(ctx context.Context, items []item) (Receipt, error) {
				tags := make([]string, len(items))
				for i, it := range items {
					tags[i] = it.tag
				}
				return tp.PurgeTags(ctx, tags)
			}, tp.TagLimits(), true
		}
	case KindPrefetch:
		if pf, ok := r.p.(Prefetcher); ok {
			return func(ctx context.Context, items []item) (Receipt, error) { return pf.Prefetch(ctx, objs(items)) }, pf.PrefetchLimits(), true
		}
	}
	return nil, Limits{}, false
}

// flatten decodes the tasks' items; a task whose items do not decode fails.
func flatten(kind string, tasks []*meta.CDNTask) (items []item, ends []int, bad []error) {
	ends, bad = make([]int, len(tasks)), make([]error, len(tasks))
	for i, t := range tasks {
		if kind == KindPurgeTag {
			var tags []string
			bad[i] = json.Unmarshal(t.Items, &tags)
			for _, tg := range tags {
				items = append(items, item{task: i, tag: tg})
			}
		} else {
			var objs []Object
			bad[i] = json.Unmarshal(t.Items, &objs)
			for _, o := range objs {
				items = append(items, item{task: i, obj: o})
			}
		}
		ends[i] = len(items)
	}
	return items, ends, bad
}

// outcome gathers the receipts of one task's requests.
type outcome struct {
	ids  []string
	done bool
	est  Receipt
}

// submit sends the claimed tasks of one kind in as few requests as the
// vendor's limits allow, in order; at the first refusal the rest wait
// for a retry. A task is accepted when every request carrying its items
// was.
func (r *Runner) submit(ctx context.Context, kind string, tasks []*meta.CDNTask, flush func([]*meta.CDNTask)) {
	if len(tasks) == 0 {
		return
	}
	send, limits, ok := r.sender(kind)
	if !ok {
		for _, t := range tasks {
			r.fail(t, fmt.Errorf("provider %s cannot %s", r.p.Name(), kind))
		}
		return
	}
	items, ends, bad := flatten(kind, tasks)
	outs := make([]outcome, len(tasks))
	for i := range outs {
		outs[i].done = true
	}
	failedAt, ferr := len(items), error(nil)
	size := func(i int) int {
		if limits.ObjectBytes != nil {
			return limits.ObjectBytes(items[i].key())
		}
		return len(items[i].key()) + 3
	}
	pacer := r.pacers[kind]
	for _, b := range Batches(len(items), limits, 64, size) {
		if d := pacer.Delay(b[1] - b[0]); d > r.cfg.Lease/4 {
			// Waiting that long would outlast the claim: the rest waits as
			// if the vendor had said 429, without asking it.
			failedAt, ferr = b[0], &Error{Provider: r.p.Name(), Op: kind, Retry: true, Throttled: true, RetryAfter: d,
				Message: "paced under the vendor's documented rate limits"}
			break
		}
		if err := pacer.Wait(ctx, b[1]-b[0]); err != nil {
			return // shutting down
		}
		rc, err := send(ctx, items[b[0]:b[1]])
		r.m.request(r.p.Name(), kind, err)
		if err != nil {
			failedAt, ferr = b[0], err
			break
		}
		for _, it := range items[b[0]:b[1]] {
			o := &outs[it.task]
			if rc.TaskID != "" && (len(o.ids) == 0 || o.ids[len(o.ids)-1] != rc.TaskID) {
				o.ids = append(o.ids, rc.TaskID)
			}
			o.done = o.done && rc.Done
			o.est.Estimate = max(o.est.Estimate, rc.Estimate)
		}
		flush(r.acceptedUpTo(tasks, ends, bad, outs, b[1]))
	}
	for i, t := range tasks {
		switch {
		case bad[i] != nil:
			r.fail(t, fmt.Errorf("unreadable items: %w", bad[i]))
		case ends[i] <= failedAt:
			if t.State == meta.CDNSubmitted { // not yet marked by acceptedUpTo (no items)
				r.accepted(t, outs[i])
			}
		default:
			r.retry(t, ferr)
		}
	}
}

// acceptedUpTo marks accepted the tasks whose items all went out in
// requests before item hi, and returns them (for an early save).
func (r *Runner) acceptedUpTo(tasks []*meta.CDNTask, ends []int, bad []error, outs []outcome, hi int) []*meta.CDNTask {
	var out []*meta.CDNTask
	for i, t := range tasks {
		if bad[i] == nil && ends[i] <= hi && t.State == meta.CDNSubmitted {
			r.accepted(t, outs[i])
			out = append(out, t)
		}
	}
	return out
}

// accepted records the vendor's acceptance: done, or in progress until a
// poll (vendors with task status) or the estimate (the others) says done.
func (r *Runner) accepted(t *meta.CDNTask, o outcome) {
	now := r.now()
	t.VendorIDs, t.SubmittedAt, t.Error = o.ids, now, ""
	_, polls := r.p.(StatusChecker)
	switch {
	case o.done:
		t.State, t.DoneAt = meta.CDNDone, now
	case polls && len(o.ids) > 0:
		t.State, t.NextAttemptAt = meta.CDNInProgress, now.Add(r.cfg.PollEvery)
	default:
		t.State, t.NextAttemptAt = meta.CDNInProgress, now.Add(o.est.Estimate)
	}
}

// retry queues t again after a backoff, or fails it when the error is
// permanent or its attempts are used up (rate limits and quotas never use
// them up: they pass). A rate limit pauses the runner for its Retry-After.
func (r *Runner) retry(t *meta.CDNTask, err error) {
	if err == nil {
		err = errors.New("not sent")
	}
	retryable, after := Retryable(err)
	limited := RateLimited(err)
	if !retryable || (!limited && t.Attempts >= r.cfg.MaxAttempts) {
		r.fail(t, err)
		return
	}
	d := r.backoff(t.Attempts, after)
	if limited {
		// A long wait (a daily quota) stays on the task; the runner pauses
		// a minute at most, so polls and other kinds go on.
		r.pause(min(after, time.Minute))
	}
	t.State, t.Error, t.NextAttemptAt = meta.CDNQueued, err.Error(), r.now().Add(d)
}

func (r *Runner) fail(t *meta.CDNTask, err error) {
	t.State, t.Error, t.DoneAt = meta.CDNFailed, err.Error(), r.now()
}

// poll asks the vendor about tasks in progress; without a status API a
// task is done once its estimate passed (which is why it was due).
func (r *Runner) poll(ctx context.Context, tasks []*meta.CDNTask) {
	if len(tasks) == 0 {
		return
	}
	sc, ok := r.p.(StatusChecker)
	if !ok {
		for _, t := range tasks {
			t.State, t.DoneAt = meta.CDNDone, r.now()
		}
		return
	}
	var ids []string
	seen := map[string]bool{}
	for _, t := range tasks {
		for _, id := range t.VendorIDs {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	states, err := sc.TaskStates(ctx, ids)
	r.m.request(r.p.Name(), "status", err)
	for _, t := range tasks {
		r.polled(t, states, err)
	}
}

func (r *Runner) polled(t *meta.CDNTask, states map[string]State, err error) {
	now := r.now()
	if err != nil {
		_, after := Retryable(err)
		t.Error, t.NextAttemptAt = err.Error(), now.Add(max(after, r.cfg.PollEvery))
		return
	}
	done := true
	for _, id := range t.VendorIDs {
		switch states[id] {
		case VendorFailed:
			r.retry(t, fmt.Errorf("the vendor reports task %s failed", id))
			return
		case VendorPending:
			done = false
		}
	}
	if done {
		t.State, t.DoneAt, t.Error = meta.CDNDone, now, ""
	} else {
		t.NextAttemptAt = now.Add(r.cfg.PollEvery)
	}
}
