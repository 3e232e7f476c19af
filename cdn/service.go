package cdn

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

// Task kinds.
const (
	KindPurgeURL = "purge_url"
	KindPurgeTag = "purge_tag"
	KindPrefetch = "prefetch"
)

// AllTag is the tag every variant carries; ImageTag(id) the one of an image.
const AllTag = "imgmgr"

// ImageTag is the cache tag of every variant of one image.
func ImageTag(id string) string { return "img-" + id }

// DefaultAccepts are the Accept headers of the format classes imgmgr
// negotiates (AVIF, WebP, other): a negotiated URL is purged and warmed
// once per class.
var DefaultAccepts = []string{"image/avif,image/webp,*/*", "image/webp,*/*", "*/*"}

// Store is what the service and runner keep in the metadata store.
type Store interface {
	meta.CDNTasks
	meta.VariantURLs
	FindImageByID(ctx context.Context, id string) (*imgmgr.Image, error)
}

// Signer signs variant URL paths (delivery's signer).
type Signer interface {
	SignImage(im *imgmgr.Image, options, ext string, expiresIn time.Duration) (string, error)
}

// Config of the service. PublicBaseURL is required.
type Config struct {
	PublicBaseURL   string   // e.g. https://img.example.com: what the CDN caches
	PrefetchPresets []string // presets warmed after each upload
	Accepts         []string // default DefaultAccepts
}

// Service turns triggers (deletes, privacy changes, admin requests) into
// durable tasks for the Runner. Safe for concurrent use.
type Service struct {
	cfg    Config
	p      Provider
	store  Store
	signer Signer
	log    *slog.Logger
	wake   func()
}

// NewService returns a Service over p. signer may be nil (no prefetch of
// presets).
func NewService(cfg Config, p Provider, store Store, signer Signer, log *slog.Logger) (*Service, error) {
	u, err := url.Parse(cfg.PublicBaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("cdn.public_base_url: must be an absolute http(s) URL")
	}
	cfg.PublicBaseURL = strings.TrimRight(cfg.PublicBaseURL, "/")
	if len(cfg.Accepts) == 0 {
		cfg.Accepts = DefaultAccepts
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, p: p, store: store, signer: signer, log: log, wake: func() {}}, nil
}

// Provider is the vendor the service purges at.
func (s *Service) Provider() Provider { return s.p }

// TagsSupported reports whether purges go by tag.
func (s *Service) TagsSupported() bool { _, ok := s.p.(TagPurger); return ok }

func (s *Service) enqueue(ctx context.Context, kind, reason string, items any) (*meta.CDNTask, error) {
	b, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	t := &meta.CDNTask{Provider: s.p.Name(), Kind: kind, Items: b, Reason: reason}
	if err := s.store.CreateCDNTasks(ctx, []*meta.CDNTask{t}); err != nil {
		return nil, imgmgr.Wrap("cdn.enqueue", err)
	}
	s.wake()
	return t, nil
}

// PurgeImage queues the purge of every cached variant of im: by its tag
// where the vendor has tags, else every URL the variant index knows for it
// in its public form (negotiated URLs once per Accept class). With forget
// the image's URL records are dropped once the task is stored (the image
// is gone). It returns nil, nil when there is nothing to purge.
func (s *Service) PurgeImage(ctx context.Context, im *imgmgr.Image, reason string, forget bool) (*meta.CDNTask, error) {
	var t *meta.CDNTask
	var err error
	if s.TagsSupported() {
		t, err = s.enqueue(ctx, KindPurgeTag, reason, []string{ImageTag(im.ID)})
	} else {
		var objs []Object
		if objs, err = s.imageObjects(ctx, im.ID); err == nil && len(objs) > 0 {
			t, err = s.enqueue(ctx, KindPurgeURL, reason, objs)
		}
	}
	if err != nil {
		return nil, err
	}
	if forget {
		if err := s.store.DeleteVariantURLs(ctx, im.ID); err != nil {
			s.log.WarnContext(ctx, "cdn: forgetting variant URLs", "image", im.ID, "err", err)
		}
	}
	return t, nil
}

func (s *Service) imageObjects(ctx context.Context, id string) ([]Object, error) {
	vs, err := s.store.ListVariantURLs(ctx, id)
	if err != nil {
		return nil, imgmgr.Wrap("cdn.imageObjects", err)
	}
	var objs []Object
	for _, v := range vs {
		objs = append(objs, s.objects(s.cfg.PublicBaseURL+v.Path, v.Negotiated)...)
	}
	return objs, nil
}

// objects is a public URL as objects: once per Accept class when the
// format is negotiated.
func (s *Service) objects(u string, negotiated bool) []Object {
	if !negotiated {
		return []Object{{URL: u}}
	}
	out := make([]Object, len(s.cfg.Accepts))
	for i, a := range s.cfg.Accepts {
		out[i] = Object{URL: u, Accept: a}
	}
	return out
}
