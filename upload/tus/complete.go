package tus

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// complete ingests u, whose bytes have all arrived: in wr (still open, last
// bytes uncommitted) or, for a final upload, committed by Concat.
//
// All bytes but the last are committed first, so that when ingest fails in a
// way worth retrying (busy, scanner down, internal) or the process dies, the
// upload stays resumable and the client's retry of the last byte runs ingest
// again, instead of the client seeing offset == length and believing the
// upload done. A rejected file leaves nothing behind. On success the record
// is kept as completed (HEAD gives the image id) and the bytes are freed.
func (h *Handler) complete(ctx context.Context, u staging.Upload, p imgmgr.Principal, wr staging.Writer) (*imgmgr.Image, error) {
	if wr != nil && u.Length-1 > wr.Committed() {
		if err := wr.Commit(u.Length - 1); err != nil {
			return nil, err
		}
	}
	md, err := ParseMetadata(u.Metadata, h.cfg.MaxMetadataBytes)
	if err != nil {
		return nil, err
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.cfg.IngestTimeout)
	defer cancel()
	im, err := h.ingestUpload(ictx, u, md, p, wr)
	if err != nil {
		if retryable(err) && u.Concat != staging.ConcatFinal {
			return nil, err // Close of wr drops the last byte
		}
		h.discard(ctx, u, retryable(err))
		h.metrics.count("rejected")
		return nil, err
	}
	_, err = h.store.Update(ctx, u.ID, func(x *staging.Upload) error {
		x.State, x.ImageID = staging.StateCompleted, im.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := h.store.DeleteData(ctx, u.ID); err != nil {
		h.log.WarnContext(ctx, "freeing a completed upload", "upload", u.ID, "err", err)
	}
	h.forget(u)
	h.metrics.count("completed")
	h.metrics.duration.Observe(time.Since(u.CreatedAt).Seconds())
	for _, part := range u.Parts {
		h.deletePart(ctx, part)
	}
	return im, nil
}

func (h *Handler) ingestUpload(ctx context.Context, u staging.Upload, md Metadata, p imgmgr.Principal, wr staging.Writer) (*imgmgr.Image, error) {
	req := md.Request(p, u.ID)
	if lf, ok := h.store.(staging.LocalFiler); ok {
		f, err := lf.File(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return h.ingest.IngestFile(ctx, req, f)
	}
	rc, err := h.open(ctx, u, wr)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return h.ingest.IngestReader(ctx, req, rc)
}

// open streams every byte of u from a store that is not a local file: read
// back through the writer, whose last bytes are not committed, or, for a
// final upload that Concat committed whole, from the store.
func (h *Handler) open(ctx context.Context, u staging.Upload, wr staging.Writer) (io.ReadCloser, error) {
	if wr == nil {
		return h.store.Open(ctx, u.ID)
	}
	wo, ok := wr.(staging.WrittenOpener)
	if !ok {
		return nil, imgmgr.Internal("tus.open", errors.New("the staging store neither gives a local file nor reads back a writer"))
	}
	return wo.OpenWritten(ctx)
}

// retryable reports whether an ingest error may pass on a retry.
func retryable(err error) bool {
	switch imgmgr.KindOf(err) {
	case imgmgr.KindUnavailable, imgmgr.KindRateLimited, imgmgr.KindInternal, imgmgr.KindLocked:
		return true
	}
	return false
}

// discard removes a final or rejected upload; a rejected final takes its
// parts along, a final that may be retried leaves them for the retry.
func (h *Handler) discard(ctx context.Context, u staging.Upload, keepParts bool) {
	ctx = context.WithoutCancel(ctx)
	if err := h.store.Delete(ctx, u.ID); err != nil {
		h.log.WarnContext(ctx, "deleting a rejected upload", "upload", u.ID, "err", err)
	}
	h.forget(u)
	if !keepParts {
		for _, part := range u.Parts {
			h.deletePart(ctx, part)
		}
	}
}

func (h *Handler) deletePart(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	part, err := h.store.Get(ctx, id)
	if err != nil {
		return
	}
	if err := h.store.Delete(ctx, id); err != nil {
		h.log.WarnContext(ctx, "deleting a partial upload", "upload", id, "err", err)
		return
	}
	h.forget(part)
}
