package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/meta"
)

// Config bounds what ingest accepts. Zero fields take the defaults.
type Config struct {
	MaxFileBytes    int64  // bytes per file; default 200 MiB
	MemoryThreshold int64  // spool in memory up to this many bytes; default 512 KiB
	TempDir         string // spool directory; default the OS temp dir
	MaxPixels       int64  // width*height of one frame; default 50 000 000
	MaxFrames       int    // frames of an animation; default 1000
	MaxTotalPixels  int64  // summed over all frames; default 500 000 000
	MaxConcurrent   int    // ingests at once on this node; default 2 × cores; past it 503
	MaxPerUser      int    // ingests at once per user; default 4; past it 503
	// AllowSVG accepts SVG uploads, sanitised before they are stored; off
	// by default (415 svg_not_allowed).
	AllowSVG bool
	// MaxSVGBytes bounds an SVG upload (before and after sanitising);
	// default 5 MiB. Past it: 413 svg_too_large.
	MaxSVGBytes int64
	// ScanFailOpen stores files unscanned when the scanner is unreachable;
	// the default (false) answers 503 instead.
	ScanFailOpen bool
}

func (c *Config) setDefaults() {
	if c.MaxFileBytes == 0 {
		c.MaxFileBytes = 200 << 20
	}
	if c.MemoryThreshold == 0 {
		c.MemoryThreshold = 512 << 10
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if c.MaxSVGBytes == 0 {
		c.MaxSVGBytes = 5 << 20
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = 50_000_000
	}
	if c.MaxFrames == 0 {
		c.MaxFrames = 1000
	}
	if c.MaxTotalPixels == 0 {
		c.MaxTotalPixels = 500_000_000
	}
	if c.MaxConcurrent == 0 {
		c.MaxConcurrent = 2 * runtime.NumCPU()
	}
	if c.MaxPerUser == 0 {
		c.MaxPerUser = 4
	}
}

// Validate checks the config after defaults are applied.
func (c Config) Validate() error {
	c.setDefaults()
	switch {
	case c.MaxFileBytes < 0:
		return errors.New("upload.max_file_bytes must be positive")
	case c.MemoryThreshold < 0 || c.MemoryThreshold > 64<<20:
		return errors.New("upload.memory_threshold must be between 0 and 64 MiB")
	case c.MaxPixels < 0, c.MaxTotalPixels < 0, c.MaxSVGBytes < 0:
		return errors.New("limits.max_pixels must be positive")
	case c.MaxFrames < 0:
		return errors.New("limits.max_frames must be positive")
	}
	return nil
}

// Decoder reads image headers and pixels (libvips in production).
type Decoder interface {
	ProbeFile(path string) (imgmgr.Header, error)
	ProbeBuffer(b []byte) (imgmgr.Header, error)
	VerifyFile(path string) error
	VerifyBuffer(b []byte) error
}

// ScanFunc scans content for malware. It returns the signature name when
// infected, "" when clean, and an error when the scanner could not answer.
type ScanFunc func(ctx context.Context, r io.Reader) (signature string, err error)

// Publisher receives events for the uploader (the event bus).
type Publisher interface {
	Publish(ctx context.Context, ev imgmgr.Event) error
}

// Deps are what ingest talks to. Scan, Events and AfterStore may be nil.
type Deps struct {
	Meta       meta.Store
	Blobs      blob.Store
	Locks      blob.KeyLocker // shared with image deletion; default in-process
	Decoder    Decoder
	Scan       ScanFunc
	Events     Publisher
	AfterStore func(ctx context.Context, im *imgmgr.Image) // e.g. enqueue eager variants
	Metrics    prometheus.Registerer
	Logger     *slog.Logger
}

// Service runs uploads through the ingest path. Safe for concurrent use.
type Service struct {
	cfg      Config
	deps     Deps
	gate     *gate
	outcomes *prometheus.CounterVec
	accept   *prometheus.HistogramVec // result: accepted, rejected
	scanTime *prometheus.HistogramVec // result: clean, infected, error
}

// New validates cfg and returns a Service.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if deps.Meta == nil || deps.Blobs == nil || deps.Decoder == nil {
		return nil, errors.New("ingest: Meta, Blobs and Decoder are required")
	}
	if deps.Locks == nil {
		deps.Locks = &blob.Locks{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, deps: deps, gate: &gate{max: cfg.MaxConcurrent, maxUser: cfg.MaxPerUser}}
	s.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "imgmgr_ingest_total",
		Help: "Files through ingest by outcome: stored, deduplicated, or the rejection code.",
	}, []string{"outcome"})
	// The upload acceptance latency SLO reads imgmgr_ingest_duration_seconds
	// at its 5 s bucket bound (see deploy/prometheus).
	s.accept = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "imgmgr_ingest_duration_seconds",
		Help:    "Time from a file's last byte received to its answer (checks, scan, store, record), by result: accepted or rejected.",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}, []string{"result"})
	s.scanTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "imgmgr_ingest_scan_duration_seconds",
		Help:    "Time of one malware scan by result: clean, infected, error (scanner unreachable, busy or failing).",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"result"})
	if deps.Metrics != nil {
		for _, c := range []prometheus.Collector{s.outcomes, s.accept, s.scanTime} {
			if err := deps.Metrics.Register(c); err != nil {
				return nil, fmt.Errorf("ingest: metrics: %w", err)
			}
		}
	}
	return s, nil
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// IngestReader spools r (memory up to a threshold, then a temp file) while
// hashing and counting, then ingests it. Nothing is left behind on error.
func (s *Service) IngestReader(ctx context.Context, req Request, r io.Reader) (*imgmgr.Image, error) {
	leave, err := s.gate.enter(req.Owner.UserID)
	if err != nil {
		return nil, s.reject(ctx, req, err)
	}
	defer leave()
	sp, err := spool(r, s.cfg.TempDir, s.cfg.MemoryThreshold, s.cfg.MaxFileBytes)
	if err != nil {
		return nil, s.reject(ctx, req, err)
	}
	defer sp.Close()
	sp.objects = spooledObjects(r, sp.size)
	return s.ingest(ctx, req, sp)
}

// spooledObjects returns the S3 objects that r, read to its end into a
// spool of size bytes, says it consisted of, or nil when it cannot say.
func spooledObjects(r io.Reader, size int64) []blob.Object {
	or, ok := r.(blob.ObjectReader)
	if !ok {
		return nil
	}
	objs, ok := or.Objects()
	var n int64
	for _, o := range objs {
		n += o.Size
	}
	if !ok || n != size {
		return nil
	}
	return objs
}

// IngestFile ingests a complete staged file (tus); it does not remove f.
func (s *Service) IngestFile(ctx context.Context, req Request, f *os.File) (*imgmgr.Image, error) {
	leave, err := s.gate.enter(req.Owner.UserID)
	if err != nil {
		return nil, s.reject(ctx, req, err)
	}
	defer leave()
	st, err := f.Stat()
	if err != nil {
		return nil, imgmgr.Internal("ingest.IngestFile", err)
	}
	if st.Size() > s.cfg.MaxFileBytes {
		return nil, s.reject(ctx, req, tooLarge(s.cfg.MaxFileBytes))
	}
	sp, err := spoolFile(f)
	if err != nil {
		return nil, s.reject(ctx, req, err)
	}
	return s.ingest(ctx, req, sp)
}

func (s *Service) ingest(ctx context.Context, req Request, sp *spooled) (_ *imgmgr.Image, err error) {
	defer s.observeAccept(time.Now(), &err)
	req, err = normalize(req)
	if err != nil {
		return nil, s.reject(ctx, req, err)
	}
	if s.cfg.AllowSVG && Sniff(sp.head) == "svg" {
		clean, hdr, err := s.sanitizeSVG(sp)
		if err != nil {
			return nil, s.reject(ctx, req, err)
		}
		defer clean.Close()
		if err := s.scan(ctx, req, clean); err != nil {
			return nil, s.reject(ctx, req, err)
		}
		return s.finishIngest(ctx, req, clean, hdr)
	}
	hdr, err := s.validate(ctx, req, sp)
	if err != nil {
		return nil, s.reject(ctx, req, err)
	}
	return s.finishIngest(ctx, req, sp, hdr)
}

// observeAccept records the time since start under the result that *err
// gives; the bytes are all in by then, so this is the server's own time.
func (s *Service) observeAccept(start time.Time, err *error) {
	result := "accepted"
	if *err != nil {
		result = "rejected"
	}
	s.accept.WithLabelValues(result).Observe(time.Since(start).Seconds())
}

// finishIngest stores and records a validated file and tells the uploader.
func (s *Service) finishIngest(ctx context.Context, req Request, sp *spooled, hdr imgmgr.Header) (*imgmgr.Image, error) {
	im, err := s.store(ctx, req, sp, hdr)
	if err != nil {
		return nil, s.reject(ctx, req, err)
	}
	s.publish(ctx, req, imgmgr.Event{Type: imgmgr.EventUploadCompleted, ImageID: im.ID, Stage: "done"})
	if s.deps.AfterStore != nil {
		s.deps.AfterStore(ctx, im)
	}
	return im, nil
}

// validate runs the checks in order: type by magic bytes, header limits,
// full decode, malware scan.
func (s *Service) validate(ctx context.Context, req Request, sp *spooled) (imgmgr.Header, error) {
	if sp.size == 0 {
		return imgmgr.Header{}, imgmgr.Errorf(imgmgr.KindInvalid, "empty_file", "the file is empty")
	}
	format := Sniff(sp.head)
	switch format {
	case "":
		return imgmgr.Header{}, imgmgr.Errorf(imgmgr.KindUnsupportedMedia, "unsupported_media_type", "the content is not a supported image type")
	case "svg":
		return imgmgr.Header{}, imgmgr.Errorf(imgmgr.KindUnsupportedMedia, "svg_not_allowed", "SVG uploads are not accepted")
	}
	s.publish(ctx, req, imgmgr.Event{Type: imgmgr.EventUploadProgress, Stage: "processing", Offset: sp.size, Length: sp.size})
	hdr, err := s.probe(sp)
	if err != nil {
		return hdr, err
	}
	if err := s.checkLimits(hdr); err != nil {
		return hdr, err
	}
	if err := s.verify(sp); err != nil {
		return hdr, err
	}
	if err := s.scan(ctx, req, sp); err != nil {
		return hdr, err
	}
	hdr.Format = format
	return hdr, ctx.Err()
}

func (s *Service) probe(sp *spooled) (imgmgr.Header, error) {
	if sp.file != nil {
		return s.deps.Decoder.ProbeFile(sp.file.Name())
	}
	return s.deps.Decoder.ProbeBuffer(sp.mem)
}

func (s *Service) verify(sp *spooled) error {
	if sp.file != nil {
		return s.deps.Decoder.VerifyFile(sp.file.Name())
	}
	return s.deps.Decoder.VerifyBuffer(sp.mem)
}

func (s *Service) checkLimits(h imgmgr.Header) error {
	px := int64(h.Width) * int64(h.Height)
	frames := max(h.Frames, 1)
	switch {
	case h.Width <= 0 || h.Height <= 0:
		return imgmgr.Errorf(imgmgr.KindUnprocessable, "undecodable", "the image has no pixels")
	case px > s.cfg.MaxPixels:
		return imgmgr.Errorf(imgmgr.KindUnprocessable, "too_many_pixels", "the image has %d×%d pixels; the limit is %d", h.Width, h.Height, s.cfg.MaxPixels)
	case frames > s.cfg.MaxFrames:
		return imgmgr.Errorf(imgmgr.KindUnprocessable, "too_many_frames", "the image has %d frames; the limit is %d", frames, s.cfg.MaxFrames)
	case px*int64(frames) > s.cfg.MaxTotalPixels:
		return imgmgr.Errorf(imgmgr.KindUnprocessable, "too_many_pixels", "the animation has %d pixels in all; the limit is %d", px*int64(frames), s.cfg.MaxTotalPixels)
	}
	return nil
}

func (s *Service) scan(ctx context.Context, req Request, sp *spooled) error {
	if s.deps.Scan == nil {
		return nil
	}
	s.publish(ctx, req, imgmgr.Event{Type: imgmgr.EventUploadProgress, Stage: "scanning", Offset: sp.size, Length: sp.size})
	r, err := sp.Reader()
	if err != nil {
		return err
	}
	start := time.Now()
	sig, err := s.deps.Scan(ctx, r)
	s.scanTime.WithLabelValues(scanResult(sig, err)).Observe(time.Since(start).Seconds())
	switch {
	case err != nil && s.cfg.ScanFailOpen:
		s.deps.Logger.WarnContext(ctx, "scan failed; storing unscanned (fail-open)", "err", err)
		return nil
	case err != nil:
		if imgmgr.KindOf(err) == imgmgr.KindInternal {
			return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "scanner_unavailable", Message: "the malware scanner is unavailable; try again later", RetryAfter: 30 * time.Second, Err: err}
		}
		return err
	case sig != "":
		s.publish(ctx, req, imgmgr.Event{Type: imgmgr.EventScanResult, Code: "malware_detected", Message: sig})
		return imgmgr.Errorf(imgmgr.KindUnprocessable, "malware_detected", "malware detected: %s", sig)
	}
	s.publish(ctx, req, imgmgr.Event{Type: imgmgr.EventScanResult, Code: "clean"})
	return nil
}

// scanResult names the outcome of one scan for the scan latency metric.
func scanResult(sig string, err error) string {
	switch {
	case err != nil:
		return "error"
	case sig != "":
		return "infected"
	}
	return "clean"
}

// store puts the blob (unless an identical one exists) and records the row;
// under the content lock so a concurrent delete cannot collect the blob
// between the two. A failed insert removes a blob that no row uses.
func (s *Service) store(ctx context.Context, req Request, sp *spooled, hdr imgmgr.Header) (*imgmgr.Image, error) {
	albumID, err := s.resolveAlbum(ctx, req)
	if err != nil {
		return nil, err
	}
	key := blob.OriginalKey(sp.sha256)
	unlock, err := s.deps.Locks.Lock(ctx, key)
	if err != nil {
		return nil, imgmgr.Wrap("ingest.store", err)
	}
	defer unlock()
	fresh := false
	if _, err := s.deps.Blobs.Stat(ctx, key); imgmgr.IsNotFound(err) {
		if err := s.putBlob(ctx, key, sp); err != nil {
			return nil, imgmgr.Wrap("ingest.store", err)
		}
		fresh = true
	} else if err != nil {
		return nil, imgmgr.Wrap("ingest.store", err)
	}
	im := &imgmgr.Image{
		OwnerID: req.Owner.UserID, SHA256: sp.sha256, Size: sp.size, Header: hdr,
		Title: req.Title, Filename: req.Filename, Visibility: req.Visibility,
		AlbumID: albumID, Tags: req.Tags,
	}
	if err := s.deps.Meta.CreateImage(ctx, im); err != nil {
		if fresh {
			s.collect(key, sp.sha256)
		}
		return nil, imgmgr.Wrap("ingest.store", err)
	}
	outcome := "stored"
	if !fresh {
		outcome = "deduplicated"
	}
	s.outcomes.WithLabelValues(outcome).Inc()
	return im, nil
}

// putBlob stores the spooled bytes: by a server-side copy when they are
// objects the blob store can copy (S3 staging and S3 blobs in one
// service: the bytes are not sent again; the copy is refused unless the
// objects still have the ETags they had when read, so the blob is exactly
// the bytes hashed), else a spool file of our own is handed over whole
// when the store can adopt files, else copied.
func (s *Service) putBlob(ctx context.Context, key string, sp *spooled) error {
	if c, ok := s.deps.Blobs.(blob.Copier); ok && sp.objects != nil {
		_, err := c.Copy(ctx, key, sp.objects)
		if err == nil {
			return nil
		}
		if !errors.Is(err, blob.ErrNotCopyable) {
			s.deps.Logger.WarnContext(ctx, "copying the staged objects failed; storing the bytes", "key", key, "err", err)
		}
	}
	if a, ok := s.deps.Blobs.(blob.Adopter); ok && sp.file != nil && sp.owned {
		if _, err := a.Adopt(ctx, key, sp.file.Name()); err == nil {
			sp.owned = false // the store has it now
			sp.file.Close()
			return nil
		}
	}
	r, err := sp.Reader()
	if err != nil {
		return err
	}
	_, err = s.deps.Blobs.Put(ctx, key, r)
	return err
}

// collect deletes a blob no row uses; it outlives a cancelled request.
func (s *Service) collect(key, sha string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if n, err := s.deps.Meta.CountImagesBySHA(ctx, sha); err == nil && n == 0 {
		if err := s.deps.Blobs.Delete(ctx, key); err != nil {
			s.deps.Logger.Error("collecting unused blob", "key", key, "err", err)
		}
	}
}

func (s *Service) resolveAlbum(ctx context.Context, req Request) (string, error) {
	if req.Album == "" {
		return "", nil
	}
	// Someone else's album id is treated like any name, so an upload cannot
	// tell whether the id exists.
	if a, err := s.deps.Meta.FindAlbum(ctx, req.Album); err == nil && a.OwnerID == req.Owner.UserID {
		return a.ID, nil
	}
	for range 2 {
		a, err := s.deps.Meta.FindAlbumByName(ctx, req.Owner.UserID, req.Album)
		if err == nil {
			return a.ID, nil
		}
		if !imgmgr.IsNotFound(err) {
			return "", err
		}
		a = &imgmgr.Album{OwnerID: req.Owner.UserID, Name: req.Album}
		if err = s.deps.Meta.CreateAlbum(ctx, a); err == nil {
			return a.ID, nil
		}
		if imgmgr.KindOf(err) != imgmgr.KindConflict {
			return "", err
		}
	}
	return "", imgmgr.Errorf(imgmgr.KindConflict, "conflict", "album %q could not be created", req.Album)
}

func (s *Service) reject(ctx context.Context, req Request, err error) error {
	code, msg := imgmgr.PublicError(err)
	s.outcomes.WithLabelValues(code).Inc()
	s.publish(ctx, req, imgmgr.Event{Type: imgmgr.EventUploadFailed, Stage: "rejected", Code: code, Message: msg})
	return err
}

func (s *Service) publish(ctx context.Context, req Request, ev imgmgr.Event) {
	if s.deps.Events == nil || req.Owner.UserID == "" {
		return
	}
	ev.UserID, ev.UploadID, ev.Time = req.Owner.UserID, req.UploadID, time.Now().UTC()
	if ev.Filename == "" {
		ev.Filename = req.Filename
	}
	if err := s.deps.Events.Publish(context.WithoutCancel(ctx), ev); err != nil {
		s.deps.Logger.WarnContext(ctx, "publishing event", "type", ev.Type, "err", err)
	}
}

// Limits on descriptive fields.
const (
	maxTitle    = 500
	maxFilename = 255
	maxTags     = 50
	maxTagLen   = 64
)

// normalize cleans and checks the descriptive fields of req.
func normalize(req Request) (Request, error) {
	req.Filename = imgmgr.CleanText(filepath.Base(strings.ReplaceAll(req.Filename, "\\", "/")))
	if req.Filename == "." || req.Filename == "/" {
		req.Filename = ""
	}
	req.Filename = truncate(req.Filename, maxFilename)
	req.Title = strings.TrimSpace(imgmgr.CleanText(req.Title))
	if len(req.Title) > maxTitle {
		return req, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_title", "title is longer than %d bytes", maxTitle)
	}
	if req.Visibility == "" {
		req.Visibility = imgmgr.Private
	}
	if !req.Visibility.Valid() {
		return req, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_visibility", "visibility must be private or public")
	}
	tags, err := NormalizeTags(req.Tags)
	req.Tags = tags
	req.Album = strings.TrimSpace(req.Album)
	return req, err
}

// NormalizeTags trims, lower-cases and de-duplicates tags, keeping order,
// and refuses too many or too long ones.
func NormalizeTags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, t := range in {
		t = strings.ToLower(strings.TrimSpace(imgmgr.CleanText(t)))
		if t == "" || seen[t] {
			continue
		}
		if len(t) > maxTagLen {
			return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_tag", "tag %q is longer than %d bytes", truncate(t, 20), maxTagLen)
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_tag", "at most %d tags", maxTags)
	}
	return out, nil
}

// SplitTags splits a comma-separated tag list.
func SplitTags(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	return strings.ToValidUTF8(s, "")
}
