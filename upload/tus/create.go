package tus

import (
	"time"

	"net/http"
	"strconv"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// Create makes a new upload (creation, creation-defer-length,
// concatenation), taking the first bytes from the body when it has one
// (creation-with-upload). An upload complete at creation (length 0, the
// whole file in the body, or a final concatenation) is ingested before the
// answer.
func (h *Handler) Create(w http.ResponseWriter, r *http.Request) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	cc, err := parseConcat(r.Header)
	if err != nil {
		return err
	}
	length, err := creationLength(r.Header, cc.final)
	if err != nil {
		return err
	}
	rawMeta, _, err := singleHeader(r.Header, "Upload-Metadata")
	if err != nil {
		return err
	}
	if _, err := ParseMetadata(rawMeta, h.cfg.MaxMetadataBytes); err != nil {
		return err
	}
	if cc.final {
		return h.createFinal(w, r, p, cc, rawMeta)
	}
	if length > h.cfg.MaxSize {
		return h.tooLarge(w)
	}
	withBody := r.ContentLength > 0 || r.ContentLength < 0 && len(r.TransferEncoding) > 0
	if withBody {
		if err := ensureOffsetStream(r); err != nil {
			return err
		}
	}
	u, err := h.newUpload(r, p, length, rawMeta, cc)
	if err != nil {
		return err
	}
	w.Header().Set("Location", h.uploadURL(r, u.ID))
	w.Header().Set("Upload-Expires", u.ExpiresAt.UTC().Format(http.TimeFormat))
	if withBody || length == 0 {
		br := newBody(w, r, h.cfg.IdleTimeout)
		lease, err := h.locks.acquire(r.Context(), u.ID, br.interrupt)
		if err != nil {
			return err
		}
		defer lease.release()
		u, err = h.write(w, r, u, p, br, lease)
		if err != nil {
			if _, gerr := h.store.Get(r.Context(), u.ID); imgmgr.IsNotFound(gerr) {
				w.Header().Del("Location") // rejected: nothing is left to point at
			}
			return err
		}
	}
	w.Header().Set("Upload-Offset", strconv.FormatInt(u.Offset, 10))
	w.WriteHeader(http.StatusCreated)
	return nil
}

// newUpload records a new upload within the caller's limit of unfinished ones.
func (h *Handler) newUpload(r *http.Request, p imgmgr.Principal, length int64, rawMeta string, cc concatHeader) (staging.Upload, error) {
	if !h.unfinished.add(p.UserID, 1, h.cfg.MaxUnfinishedPerUser) {
		return staging.Upload{}, &imgmgr.Error{Kind: imgmgr.KindRateLimited, Code: "too_many_uploads",
			Message: "too many unfinished uploads; finish or terminate some first", RetryAfter: h.cfg.SweepEvery}
	}
	now := h.now().UTC()
	u := staging.Upload{ID: newID(), OwnerID: p.UserID, Length: length, Metadata: rawMeta,
		CreatedAt: now, ExpiresAt: now.Add(h.cfg.Expiry).Truncate(time.Second)}
	if cc.partial {
		u.Concat = staging.ConcatPartial
	}
	if err := h.store.Create(r.Context(), u); err != nil {
		h.unfinished.add(p.UserID, -1, 0)
		return u, err
	}
	h.metrics.count("created")
	md, _ := ParseMetadata(rawMeta, h.cfg.MaxMetadataBytes)
	h.publish(r.Context(), u, imgmgr.Event{Type: imgmgr.EventUploadCreated, Stage: "receiving",
		Filename: md.Filename, Length: length})
	return u, nil
}

func (h *Handler) tooLarge(w http.ResponseWriter) error {
	w.Header().Set("Tus-Max-Size", strconv.FormatInt(h.cfg.MaxSize, 10))
	return imgmgr.Errorf(imgmgr.KindTooLarge, "upload_too_large", "the upload is larger than the limit of %d bytes", h.cfg.MaxSize)
}

// createFinal concatenates finished partial uploads into a final upload
// and ingests it.
func (h *Handler) createFinal(w http.ResponseWriter, r *http.Request, p imgmgr.Principal, cc concatHeader, rawMeta string) error {
	if r.ContentLength > 0 {
		return invalid("invalid_concat", "a final upload takes no body")
	}
	ids, total, err := h.finishedParts(r, p, cc.urls)
	if err != nil {
		return err
	}
	if total > h.cfg.MaxSize {
		return h.tooLarge(w)
	}
	now := h.now().UTC()
	u := staging.Upload{ID: newID(), OwnerID: p.UserID, Length: total, Metadata: rawMeta, Concat: staging.ConcatFinal,
		Parts: ids, CreatedAt: now, ExpiresAt: now.Add(h.cfg.Expiry).Truncate(time.Second)}
	ctx := r.Context()
	if err := h.store.Create(ctx, u); err != nil {
		return err
	}
	lease := h.locks.tryAcquire(ctx, u.ID) // a new id: free unless the shared locker fails
	if lease == nil {
		h.store.Delete(ctx, u.ID)
		return errLocked()
	}
	defer lease.release()
	if err := h.store.Concat(ctx, u.ID, ids); err != nil {
		h.store.Delete(ctx, u.ID)
		return err
	}
	u.Offset = total
	md, _ := ParseMetadata(rawMeta, h.cfg.MaxMetadataBytes)
	h.publish(ctx, u, imgmgr.Event{Type: imgmgr.EventUploadCreated, Stage: "receiving", Filename: md.Filename, Length: total})
	w.Header().Set("Location", h.uploadURL(r, u.ID))
	im, err := h.complete(ctx, u, p, nil)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Upload-Offset", strconv.FormatInt(total, 10))
	hd.Set("Upload-Length", strconv.FormatInt(total, 10))
	hd.Set("Upload-Image-Id", im.ID)
	w.WriteHeader(http.StatusCreated)
	return nil
}

// finishedParts resolves the partial upload URLs of a final upload: each
// must be the caller's, partial, finished and not expired.
func (h *Handler) finishedParts(r *http.Request, p imgmgr.Principal, urls []string) ([]string, int64, error) {
	ids := make([]string, len(urls))
	var total int64
	for i, raw := range urls {
		id := h.idFromURL(raw)
		if id == "" {
			return nil, 0, invalid("invalid_concat", "%q is not an upload URL of this server", truncate(raw, 100))
		}
		u, err := h.load(r.Context(), p, id)
		switch {
		case imgmgr.IsNotFound(err):
			return nil, 0, invalid("invalid_concat", "partial upload %s does not exist", id)
		case err != nil:
			return nil, 0, err
		case u.Concat != staging.ConcatPartial:
			return nil, 0, invalid("invalid_concat", "upload %s is not a partial upload", id)
		case !u.Done():
			return nil, 0, invalid("partial_upload_unfinished", "partial upload %s is not finished", id)
		}
		ids[i] = id
		total += u.Length
	}
	return ids, total, nil
}
