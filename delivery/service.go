// Package delivery serves variants: GET|HEAD /img/{signature}/{options}/
// {id}[.ext]. It verifies the signature, finds the variant in the cache
// (blobs in blob.Store, indexed in meta.Variants) or renders it once for
// all concurrent requests (single-flight) within a bounded render pool,
// and answers with immutable HTTP caching. It also deletes an image's
// variants, evicts the least recently used ones past a size cap, and
// renders eager presets in the background through jobs.
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/jobs"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/variant"
)

// ImageFinder finds image rows (meta.Store does).
type ImageFinder interface {
	FindImageByID(ctx context.Context, id string) (*imgmgr.Image, error)
}

// Deps are what delivery talks to. Jobs and Metrics may be nil.
type Deps struct {
	Images   ImageFinder
	Variants meta.Variants
	Blobs    blob.Store
	Jobs     *jobs.Runner // eager presets: New registers its handler, so call New before Jobs.Start
	// RenderGate, when set, is asked before a render that missed the cache
	// (e.g. a per-client rate limit); its error is the answer.
	RenderGate func(r *http.Request) error
	// Flights, when set, makes one replica render a variant that several
	// want at once (Redis leases); nil: each process renders on its own.
	Flights Flights
	// URLs, when set, records the variant URLs served per image (for URL
	// purges at CDNs without cache tags).
	URLs    meta.VariantURLs
	Metrics prometheus.Registerer
	Logger  *slog.Logger
}

// Service serves and manages variants. Safe for concurrent use.
type Service struct {
	cfg     Config
	deps    Deps
	log     *slog.Logger
	presets variant.Presets
	signer  *variant.Signer
	pool    *pool
	recent  *recentImages
	urls    *urlRecorder
	m       *metrics
	now     func() time.Time

	touches  chan string
	touched  map[string]time.Time
	evicting sync.Mutex
	stop     chan struct{}
	wg       sync.WaitGroup
}

// The records of recently served images kept for outages of the metadata
// store (see recentImages): about 1 KiB each.
const (
	recentMax = 10000
	recentTTL = 10 * time.Minute
)

// New validates cfg and returns a Service. Close it when done.
func New(cfg Config, deps Deps) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Images == nil || deps.Variants == nil || deps.Blobs == nil {
		return nil, errors.New("delivery: Images, Variants and Blobs are required")
	}
	presets, _ := variant.ParsePresets(cfg.Presets) // checked by Validate
	signer, err := variant.NewSigner(variant.SignerConfig{Keys: cfg.Keys, SignatureSize: cfg.SignatureSize,
		Prefix: cfg.PathPrefix, Presets: presets, PrivateTTL: cfg.PrivateTTL, PrivateMaxTTL: cfg.PrivateMaxTTL})
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(deps.Metrics)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, presets: presets, signer: signer, m: m, now: time.Now,
		touches: make(chan string, 1024), touched: map[string]time.Time{}, stop: make(chan struct{})}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.pool = newPool(cfg.RenderConcurrency, cfg.RenderQueue, cfg.RenderTimeout, m)
	s.recent = newRecentImages(recentMax, recentTTL, s.now)
	s.urls = &urlRecorder{store: deps.URLs, seen: map[string]bool{}}
	if deps.Jobs != nil {
		deps.Jobs.Handle(eagerKind, s.runEager)
	}
	s.wg.Add(1)
	go s.touchLoop()
	return s, nil
}

// Signer signs variant URLs (for POST /api/v1/images/{id}/urls and
// `imgmgr sign`).
func (s *Service) Signer() *variant.Signer { return s.signer }

// SignImage returns a signed URL path for im: options, optional extension
// and expiry; a private image's URL always expires (delivery.PrivateTTL).
func (s *Service) SignImage(im *imgmgr.Image, options, ext string, expiresIn time.Duration) (string, error) {
	return s.signer.SignImage(im, options, ext, expiresIn, s.cfg.PrivateTTL)
}

// Close stops background work (index touches) and waits for evictions.
// Renders in flight finish on their own.
func (s *Service) Close() error {
	close(s.stop)
	s.pool.wait()
	s.wg.Wait()
	return nil
}
