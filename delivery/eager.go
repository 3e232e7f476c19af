package delivery

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/jobs"
	"github.com/imgmgr/imgmgr/variant"
)

const eagerKind = "variant.eager"

type eagerPayload struct {
	ImageID string `json:"image_id"`
}

// eagerAccepts are the Accept headers browsers send, so eager renders
// warm exactly the formats negotiation will pick.
var eagerAccepts = []string{"image/avif,image/webp,*/*", "image/webp,*/*", "*/*"}

// EnqueueEager queues the background render of the eager presets for a
// freshly stored image (ingest's AfterStore). Without eager presets or a
// job runner it does nothing.
func (s *Service) EnqueueEager(ctx context.Context, im *imgmgr.Image) error {
	if len(s.cfg.EagerPresets) == 0 || s.deps.Jobs == nil {
		return nil
	}
	_, err := s.deps.Jobs.Enqueue(ctx, eagerKind, eagerPayload{ImageID: im.ID})
	return imgmgr.Wrap("delivery.EnqueueEager", err)
}

// runEager renders every eager preset in every negotiable format that is
// not cached yet. A deleted image drops the job; other errors retry it.
func (s *Service) runEager(ctx context.Context, payload []byte) error {
	var p eagerPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return jobs.Permanent(err)
	}
	im, err := s.deps.Images.FindImageByID(ctx, p.ImageID)
	if imgmgr.IsNotFound(err) {
		return jobs.Permanent(err)
	} else if err != nil {
		return err
	}
	var errs []error
	for _, name := range s.cfg.EagerPresets {
		o, err := variant.Parse([]string{"pr:" + name}, s.presets)
		if err != nil {
			return jobs.Permanent(err)
		}
		for _, accept := range eagerAccepts {
			req := &request{opts: o, format: o.Format}
			errs = append(errs, s.warm(ctx, im, req, accept))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) warm(ctx context.Context, im *imgmgr.Image, req *request, accept string) error {
	t := s.target(req, im, accept)
	if body, _, _, ok := s.cached(ctx, t.key); ok {
		body.Close()
		return nil
	}
	_, err := s.pool.do(ctx, t.key, t.format, s.cfg.RetryAfter, func(rctx context.Context) (*rendered, error) {
		return s.renderOnce(rctx, im, req.opts, t, accept)
	})
	return err
}
