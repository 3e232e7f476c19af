// Package tus implements the tus 1.0.0 resumable upload protocol with the
// creation, creation-with-upload, creation-defer-length, expiration,
// checksum, checksum-trailer, termination and concatenation extensions.
//
// Bytes go to a staging.Store, committed (durable) before an offset is
// acknowledged; one request writes to an upload at a time. When the last
// byte arrives the file goes through ingest like a multipart upload, and
// the request that completed it answers only once the image is recorded,
// with its id in Upload-Image-Id, or with ingest's error.
//
// Handlers return *imgmgr.Error for client errors; the caller (httpapi)
// writes them. Headers the protocol requires on errors (Tus-Version on 412,
// Upload-Offset on 409) are set before returning.
package tus

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// Ingester processes a complete upload: ingest.Service in production. Its
// error is an *imgmgr.Error whose kind and code the client gets. IngestFile
// takes the staged file of a local store as ingest's spool; IngestReader
// spools the stream of a remote store (the only local copy of it).
type Ingester interface {
	IngestFile(ctx context.Context, req ingest.Request, f *os.File) (*imgmgr.Image, error)
	IngestReader(ctx context.Context, req ingest.Request, r io.Reader) (*imgmgr.Image, error)
}

// Publisher receives upload events (the event bus). Publish must not block
// for long.
type Publisher interface {
	Publish(ctx context.Context, ev imgmgr.Event) error
}

// Deps are what the handler talks to. Events and Logger may be nil.
type Deps struct {
	Store   staging.Store
	Ingest  Ingester
	Events  Publisher
	Locker  Locker // across replicas sharing Store; nil: this process only
	Metrics prometheus.Registerer
	Logger  *slog.Logger
	Now     func() time.Time // default time.Now; tests move time
}

// Handler serves the tus endpoint. Safe for concurrent use.
type Handler struct {
	cfg        Config
	store      staging.Store
	ingest     Ingester
	events     Publisher
	log        *slog.Logger
	now        func() time.Time
	locks      *locks
	inflight   counter // requests carrying bytes, per user
	unfinished counter // unfinished uploads, per user
	metrics    *metrics
	bufs       sync.Pool
	progressMu sync.Mutex
	progressAt map[string]time.Time // last progress event per upload
}

// New validates cfg and returns a handler. It counts the unfinished uploads
// already staged, for the per-user limit.
func New(ctx context.Context, cfg Config, deps Deps) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if deps.Store == nil || deps.Ingest == nil {
		return nil, errors.New("tus: Store and Ingest are required")
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	h := &Handler{cfg: cfg, store: deps.Store, ingest: deps.Ingest, events: deps.Events, log: deps.Logger,
		now: deps.Now, locks: &locks{staleAfter: cfg.LockStaleAfter, shared: deps.Locker}, progressAt: map[string]time.Time{}}
	var err error
	if h.metrics, err = newMetrics(deps.Metrics); err != nil {
		return nil, err
	}
	h.bufs.New = func() any { b := make([]byte, cfg.BufferBytes); return &b }
	err = h.store.List(ctx, func(u staging.Upload) error {
		if u.State == staging.StateActive && u.Concat != staging.ConcatFinal {
			h.unfinished.add(u.OwnerID, 1, 0)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Config returns the effective configuration.
func (h *Handler) Config() Config { return h.cfg }

// Serve handles every tus request under BasePath (creation at BasePath,
// uploads at BasePath+id), honouring X-HTTP-Method-Override. The caller must
// have put the authenticated principal in the request context.
func (h *Handler) Serve(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Tus-Resumable", Version)
	method := r.Method
	if o := r.Header.Get("X-HTTP-Method-Override"); o != "" && r.Method == http.MethodPost {
		method = strings.ToUpper(o)
	}
	if method == http.MethodOptions {
		return h.Options(w, r)
	}
	if err := ensureVersion(w, r); err != nil {
		return err
	}
	id, isUpload := strings.CutPrefix(r.URL.Path, h.cfg.BasePath)
	if !isUpload && r.URL.Path+"/" != h.cfg.BasePath {
		return imgmgr.ErrNotFound("route")
	}
	if strings.Contains(id, "/") {
		return imgmgr.ErrNotFound("upload")
	}
	switch {
	case id == "" && method == http.MethodPost:
		return h.Create(w, r)
	case id != "" && method == http.MethodHead:
		return h.Head(w, r, id)
	case id != "" && method == http.MethodPatch:
		return h.Patch(w, r, id)
	case id != "" && method == http.MethodDelete:
		return h.Delete(w, r, id)
	}
	if id == "" {
		w.Header().Set("Allow", "OPTIONS, POST")
	} else {
		w.Header().Set("Allow", "OPTIONS, HEAD, PATCH, DELETE")
	}
	return imgmgr.Errorf(imgmgr.KindInvalid, "method_not_allowed", "%s is not allowed here", method)
}

// Options answers protocol discovery; it needs no authentication.
func (h *Handler) Options(w http.ResponseWriter, r *http.Request) error {
	hd := w.Header()
	hd.Set("Tus-Resumable", Version)
	hd.Set("Tus-Version", Version)
	hd.Set("Tus-Extension", Extensions)
	hd.Set("Tus-Max-Size", strconv.FormatInt(h.cfg.MaxSize, 10))
	hd.Set("Tus-Checksum-Algorithm", strings.Join(ChecksumAlgorithms, ","))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// principal is the authenticated caller.
func principal(r *http.Request) (imgmgr.Principal, error) {
	p, ok := imgmgr.PrincipalFrom(r.Context())
	if !ok || p.UserID == "" {
		return p, imgmgr.Errorf(imgmgr.KindUnauthenticated, "unauthenticated", "authentication is required")
	}
	return p, nil
}

// load returns the caller's upload id: 404 when missing or someone else's,
// 410 when expired.
func (h *Handler) load(ctx context.Context, p imgmgr.Principal, id string) (staging.Upload, error) {
	u, err := h.store.Get(ctx, id)
	if err != nil {
		return u, err
	}
	if u.OwnerID != p.UserID {
		return u, imgmgr.ErrNotFound("upload")
	}
	if u.State == staging.StateExpired || (u.State == staging.StateActive && !h.now().Before(u.ExpiresAt)) {
		return u, imgmgr.Errorf(imgmgr.KindGone, "upload_expired", "the upload expired; start a new one")
	}
	return u, nil
}

// Head reports an upload's offset, length, metadata and expiry.
func (h *Handler) Head(w http.ResponseWriter, r *http.Request, id string) error {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	p, err := principal(r)
	if err != nil {
		return err
	}
	u, err := h.load(r.Context(), p, id)
	if err != nil {
		return err
	}
	h.describe(w, r, u)
	w.WriteHeader(http.StatusOK)
	return nil
}

// describe sets the headers that describe u.
func (h *Handler) describe(w http.ResponseWriter, r *http.Request, u staging.Upload) {
	hd := w.Header()
	switch {
	case u.State == staging.StateCompleted:
		hd.Set("Upload-Offset", strconv.FormatInt(u.Length, 10))
		hd.Set("Upload-Image-Id", u.ImageID)
	case u.Concat != staging.ConcatFinal: // a final upload has no offset until it is finished
		hd.Set("Upload-Offset", strconv.FormatInt(u.Offset, 10))
	}
	if u.Length >= 0 {
		hd.Set("Upload-Length", strconv.FormatInt(u.Length, 10))
	} else {
		hd.Set("Upload-Defer-Length", "1")
	}
	if u.Metadata != "" {
		hd.Set("Upload-Metadata", u.Metadata)
	}
	switch u.Concat {
	case staging.ConcatPartial:
		hd.Set("Upload-Concat", "partial")
	case staging.ConcatFinal:
		urls := make([]string, len(u.Parts))
		for i, id := range u.Parts {
			urls[i] = h.uploadURL(r, id)
		}
		hd.Set("Upload-Concat", "final;"+strings.Join(urls, " "))
	}
	if u.State == staging.StateActive {
		hd.Set("Upload-Expires", u.ExpiresAt.UTC().Format(http.TimeFormat))
	}
}

// Delete terminates an upload and frees its bytes (termination).
func (h *Handler) Delete(w http.ResponseWriter, r *http.Request, id string) error {
	p, err := principal(r)
	if err != nil {
		return err
	}
	u, err := h.store.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if u.OwnerID != p.UserID {
		return imgmgr.ErrNotFound("upload")
	}
	lease, err := h.locks.acquire(r.Context(), id, nil)
	if err != nil {
		return err
	}
	defer lease.release()
	if err := h.store.Delete(r.Context(), id); err != nil {
		return err
	}
	h.forget(u)
	h.metrics.count("terminated")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// forget drops the bookkeeping of an upload that is no longer unfinished.
func (h *Handler) forget(u staging.Upload) {
	if u.State == staging.StateActive && u.Concat != staging.ConcatFinal {
		h.unfinished.add(u.OwnerID, -1, 0)
	}
	h.progressMu.Lock()
	delete(h.progressAt, u.ID)
	h.progressMu.Unlock()
}

// publish sends an event for u's owner; failures are logged, not returned.
func (h *Handler) publish(ctx context.Context, u staging.Upload, ev imgmgr.Event) {
	if h.events == nil || u.Concat == staging.ConcatPartial {
		return // parts of a parallel upload are not uploads of their own to the user
	}
	ev.UserID, ev.UploadID, ev.Time = u.OwnerID, u.ID, h.now().UTC()
	if err := h.events.Publish(context.WithoutCancel(ctx), ev); err != nil {
		h.log.WarnContext(ctx, "publishing upload event", "type", ev.Type, "err", err)
	}
}

// progress publishes a throttled progress event.
func (h *Handler) progress(ctx context.Context, u staging.Upload, offset int64) {
	now := h.now()
	h.progressMu.Lock()
	if last, ok := h.progressAt[u.ID]; ok && now.Sub(last) < h.cfg.ProgressEvery && offset != u.Length {
		h.progressMu.Unlock()
		return
	}
	h.progressAt[u.ID] = now
	h.progressMu.Unlock()
	h.publish(ctx, u, imgmgr.Event{Type: imgmgr.EventUploadProgress, Stage: "receiving", Offset: offset, Length: u.Length})
}

func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
