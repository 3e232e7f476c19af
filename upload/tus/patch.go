package tus

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// Patch appends the body at Upload-Offset (core protocol, checksum,
// checksum-trailer, creation-defer-length).
func (h *Handler) Patch(w http.ResponseWriter, r *http.Request, id string) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	if err := ensureOffsetStream(r); err != nil {
		return err
	}
	ov, _, err := singleHeader(r.Header, "Upload-Offset")
	if err != nil {
		return err
	}
	offset, err := parseCount("Upload-Offset", ov)
	if err != nil {
		return err
	}
	// Existence and ownership first: someone who is not the owner must not
	// take the lock (and so interrupt the owner's PATCH) by knowing the id.
	if _, err := h.load(r.Context(), p, id); err != nil {
		return err
	}
	br := newBody(w, r, h.cfg.IdleTimeout)
	lease, err := h.locks.acquire(r.Context(), id, br.interrupt)
	if err != nil {
		return err
	}
	defer lease.release()
	u, err := h.load(r.Context(), p, id) // again: the last holder may have moved it on
	if err != nil {
		return err
	}
	if err := h.checkPatch(w, r, u, offset); err != nil || u.State == staging.StateCompleted {
		return err
	}
	if u, err = h.deferredLength(r, u); err != nil {
		return err
	}
	u, err = h.write(w, r, u, p, br, lease)
	if err != nil {
		return err
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(u.Offset, 10))
	if u.State == staging.StateActive {
		w.Header().Set("Upload-Expires", u.ExpiresAt.UTC().Format(http.TimeFormat))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// checkPatch refuses a PATCH to a final upload (403) or at the wrong
// offset (409 with the current offset). A PATCH to a completed upload at its
// end with no body is answered 204 here.
func (h *Handler) checkPatch(w http.ResponseWriter, r *http.Request, u staging.Upload, offset int64) error {
	if u.Concat == staging.ConcatFinal {
		return imgmgr.Errorf(imgmgr.KindPermission, "final_upload", "a final upload cannot be patched")
	}
	current := u.Offset
	if u.State == staging.StateCompleted {
		current = u.Length
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(current, 10))
	if offset != current {
		return imgmgr.Errorf(imgmgr.KindConflict, "offset_mismatch", "the upload is at offset %d, not %d", current, offset)
	}
	if u.State == staging.StateCompleted {
		if r.ContentLength != 0 {
			return imgmgr.Errorf(imgmgr.KindConflict, "upload_completed", "the upload is already complete")
		}
		w.Header().Set("Upload-Image-Id", u.ImageID)
		w.WriteHeader(http.StatusNoContent)
	}
	return nil
}

// deferredLength applies Upload-Length sent in a PATCH: it sets a deferred
// length once, and must repeat a known one.
func (h *Handler) deferredLength(r *http.Request, u staging.Upload) (staging.Upload, error) {
	v, ok, err := singleHeader(r.Header, "Upload-Length")
	if err != nil || !ok {
		return u, err
	}
	n, err := parseCount("Upload-Length", v)
	switch {
	case err != nil:
		return u, err
	case u.Length >= 0 && n != u.Length:
		return u, invalid("length_immutable", "the upload length is %d and cannot change", u.Length)
	case u.Length >= 0:
		return u, nil
	case n > h.cfg.MaxSize:
		return u, imgmgr.Errorf(imgmgr.KindTooLarge, "upload_too_large", "the upload is larger than the limit of %d bytes", h.cfg.MaxSize)
	case n < u.Offset:
		return u, invalid("invalid_length", "Upload-Length %d is below the offset %d", n, u.Offset)
	}
	return h.store.Update(r.Context(), u.ID, func(x *staging.Upload) error { x.Length = n; return nil })
}

// write receives the body into u and commits it, or ingests u when the
// body completes it. It returns u as it now is.
func (h *Handler) write(w http.ResponseWriter, r *http.Request, u staging.Upload, p imgmgr.Principal, br *body, lease *lease) (staging.Upload, error) {
	if !h.inflight.add(p.UserID, 1, h.cfg.MaxConcurrentPerUser) {
		return u, &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "too_many_uploads",
			Message: "too many uploads at once; try again shortly", RetryAfter: time.Second}
	}
	defer h.inflight.add(p.UserID, -1, 0)
	h.metrics.inFlight.Inc()
	defer h.metrics.inFlight.Dec()
	wr, err := h.receive(w, r, u, br, lease)
	if err != nil {
		return u, err
	}
	defer wr.Close()
	if u.Length >= 0 && wr.Offset() == u.Length && u.Concat != staging.ConcatPartial {
		im, err := h.complete(r.Context(), u, p, wr)
		if err != nil {
			return u, err
		}
		u.State, u.ImageID, u.Offset = staging.StateCompleted, im.ID, u.Length
		w.Header().Set("Upload-Image-Id", im.ID)
		return u, nil
	}
	if err := wr.Commit(wr.Offset()); err != nil {
		return u, err
	}
	u.Offset = wr.Offset()
	h.progress(r.Context(), u, u.Offset)
	return u, nil
}

// receive copies the body to a writer opened at u's offset, committing
// checkpoints when no checksum is asked for, and verifies the checksum.
// It returns the writer open, its last bytes not yet committed. On error
// nothing past the last checkpoint is kept, except when the body broke off
// and no checksum was asked for: then all that arrived is committed (the
// server stores as much as it can).
func (h *Handler) receive(w http.ResponseWriter, r *http.Request, u staging.Upload, br *body, lease *lease) (staging.Writer, error) {
	sum, err := parseChecksum(r)
	if err != nil {
		return nil, err
	}
	limit := h.cfg.MaxSize - u.Offset
	if u.Length >= 0 {
		limit = u.Length - u.Offset
	}
	if r.ContentLength > limit {
		return nil, imgmgr.Errorf(imgmgr.KindTooLarge, "upload_too_large", "the body is longer than the %d bytes the upload lacks", limit)
	}
	wr, err := h.store.NewWriter(r.Context(), u.ID, u.Offset)
	if err != nil {
		return nil, err
	}
	if ex, ok := wr.(staging.Expecter); ok && r.ContentLength > 0 {
		ex.Expect(r.ContentLength) // a remote store sends parts as they arrive
	}
	if err := h.copyBody(r, u, wr, br, sum, limit, lease); err != nil {
		if sum == nil && errors.Is(err, errBodyBroken) {
			if cerr := wr.Commit(wr.Offset()); cerr == nil {
				w.Header().Set("Upload-Offset", strconv.FormatInt(wr.Offset(), 10))
			}
		}
		wr.Close()
		return nil, err
	}
	if sum != nil {
		if err := sum.verify(r); err != nil {
			wr.Close() // the chunk is discarded, the offset unchanged
			w.Header().Set("Upload-Offset", strconv.FormatInt(u.Offset, 10))
			return nil, err
		}
	}
	return wr, nil
}

var errBodyBroken = errors.New("request body broke off")

func (h *Handler) copyBody(r *http.Request, u staging.Upload, wr staging.Writer, br *body, sum *checksum, limit int64, lease *lease) error {
	bp := h.bufs.Get().(*[]byte)
	defer h.bufs.Put(bp)
	buf := *bp
	var hw io.Writer
	if sum != nil {
		hw = sum.writer()
	}
	start, lastCommit := wr.Offset(), wr.Offset()
	for {
		n, rerr := br.Read(buf)
		if n > 0 {
			lease.touch()
			if wr.Offset()+int64(n)-start > limit {
				return imgmgr.Errorf(imgmgr.KindTooLarge, "upload_too_large", "the body is longer than the %d bytes the upload lacks", limit)
			}
			if _, err := wr.Write(buf[:n]); err != nil {
				return err
			}
			h.metrics.received.Add(float64(n))
			if hw != nil {
				hw.Write(buf[:n])
			} else if wr.Offset()-lastCommit >= h.cfg.CheckpointBytes {
				// Never checkpoint the last byte: completion acknowledges it.
				to := wr.Offset()
				if u.Length >= 0 {
					to = min(to, u.Length-1)
				}
				if to > lastCommit {
					if err := wr.Commit(to); err != nil {
						return err
					}
					lastCommit = to
				}
			}
			h.progress(r.Context(), u, wr.Offset())
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return &imgmgr.Error{Kind: imgmgr.KindInvalid, Code: "upload_interrupted",
				Message: "the request body ended early", Err: errors.Join(errBodyBroken, rerr)}
		}
	}
}

// body reads a request body with an idle timeout, and can be interrupted
// by a newer request for the same upload.
type body struct {
	r       io.Reader
	rc      *http.ResponseController
	idle    time.Duration
	stopped atomic.Bool
}

func newBody(w http.ResponseWriter, r *http.Request, idle time.Duration) *body {
	return &body{r: r.Body, rc: http.NewResponseController(w), idle: idle}
}

var errInterrupted = errors.New("interrupted by a newer request for the same upload")

func (b *body) Read(p []byte) (int, error) {
	if b.stopped.Load() {
		return 0, errInterrupted
	}
	b.rc.SetReadDeadline(time.Now().Add(b.idle)) // unsupported by some writers: then no idle timeout
	if b.stopped.Load() {                        // interrupted between the check and the deadline
		return 0, errInterrupted
	}
	n, err := b.r.Read(p)
	if err != nil && b.stopped.Load() {
		err = errInterrupted
	}
	return n, err
}

// interrupt makes the current and every later Read fail.
func (b *body) interrupt() {
	b.stopped.Store(true)
	b.rc.SetReadDeadline(time.Now())
}
