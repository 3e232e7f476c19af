package tus

import (
	"context"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// Sweep frees the bytes of unfinished uploads past their expiry, keeping
// their records so that they answer 410, and removes records that are
// KeepRecords past their expiry. Uploads being written to are left for the
// next sweep. A store with the staging.AbandonSweeper ability then frees
// what no live upload refers to (multipart uploads of a remote store). It
// returns how many uploads it expired and removed.
func (h *Handler) Sweep(ctx context.Context) (expired, removed int, err error) {
	expired, removed, err = h.sweepRecords(ctx)
	if err != nil {
		return expired, removed, err
	}
	if as, ok := h.store.(staging.AbandonSweeper); ok {
		n, err := as.SweepAbandoned(ctx, h.now())
		if n > 0 {
			h.log.InfoContext(ctx, "tus sweep: freed abandoned staging data", "count", n)
		}
		return expired, removed, err
	}
	return expired, removed, nil
}

func (h *Handler) sweepRecords(ctx context.Context) (expired, removed int, err error) {
	now := h.now()
	var due []staging.Upload
	err = h.store.List(ctx, func(u staging.Upload) error {
		if now.After(u.ExpiresAt) {
			due = append(due, u)
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for _, u := range due {
		lease := h.locks.tryAcquire(ctx, u.ID)
		if lease == nil {
			continue
		}
		switch {
		case now.After(u.ExpiresAt.Add(h.cfg.KeepRecords)):
			if err = h.store.Delete(ctx, u.ID); err == nil {
				h.forget(u)
				removed++
			}
		case u.State == staging.StateActive:
			if err = h.expire(ctx, u); err == nil {
				expired++
			}
		}
		lease.release()
		if err != nil {
			return expired, removed, err
		}
	}
	return expired, removed, nil
}

func (h *Handler) expire(ctx context.Context, u staging.Upload) error {
	_, err := h.store.Update(ctx, u.ID, func(x *staging.Upload) error {
		x.State = staging.StateExpired
		return nil
	})
	if err != nil {
		return err
	}
	if err := h.store.DeleteData(ctx, u.ID); err != nil {
		return err
	}
	h.forget(u)
	h.metrics.count("expired")
	h.publish(ctx, u, imgmgr.Event{Type: imgmgr.EventUploadFailed, Stage: "rejected", Code: "upload_expired",
		Message: "the upload expired before it was finished", Offset: u.Offset, Length: u.Length})
	return nil
}

// RunSweeper sweeps every SweepEvery until ctx is done.
func (h *Handler) RunSweeper(ctx context.Context) {
	t := time.NewTicker(h.cfg.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if exp, rem, err := h.Sweep(ctx); err != nil {
				h.log.ErrorContext(ctx, "tus expiry sweep", "err", err)
			} else if exp+rem > 0 {
				h.log.InfoContext(ctx, "tus expiry sweep", "expired", exp, "removed", rem)
			}
		}
	}
}
