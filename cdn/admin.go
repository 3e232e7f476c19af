package cdn

import (
	"context"
	"strings"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

// MaxRequestItems bounds the ids, URLs or tags of one admin request.
const MaxRequestItems = 10000

// Request is an admin purge or prefetch: exactly one list.
type Request struct {
	ImageIDs []string `json:"image_ids,omitempty"`
	URLs     []string `json:"urls,omitempty"`
	Tags     []string `json:"tags,omitempty"`
}

func (r Request) check(tagsOK bool) error {
	n, lists := 0, 0
	for _, l := range [][]string{r.ImageIDs, r.URLs, r.Tags} {
		if len(l) > 0 {
			lists++
			n = len(l)
		}
	}
	switch {
	case lists != 1:
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_cdn_request", "give exactly one of image_ids, urls or tags")
	case n > MaxRequestItems:
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_cdn_request", "at most %d items per request", MaxRequestItems)
	case len(r.Tags) > 0 && !tagsOK:
		return imgmgr.Errorf(imgmgr.KindInvalid, "tags_unsupported", "this CDN provider cannot purge by tag")
	}
	return nil
}

// Purge queues an admin purge and returns its tasks.
func (s *Service) Purge(ctx context.Context, r Request) ([]meta.CDNTask, error) {
	if err := r.check(s.TagsSupported()); err != nil {
		return nil, err
	}
	switch {
	case len(r.Tags) > 0:
		return one(s.enqueue(ctx, KindPurgeTag, "admin", r.Tags))
	case len(r.URLs) > 0:
		objs, err := s.publicObjects(r.URLs)
		if err != nil {
			return nil, err
		}
		return one(s.enqueue(ctx, KindPurgeURL, "admin", objs))
	}
	var out []meta.CDNTask
	for _, id := range r.ImageIDs {
		im, err := s.store.FindImageByID(ctx, id)
		if err != nil {
			return nil, err
		}
		t, err := s.PurgeImage(ctx, im, "admin", false)
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, *t)
		}
	}
	return out, nil
}

// Prefetch queues an admin prefetch of URLs, or of the prefetch presets
// of images.
func (s *Service) Prefetch(ctx context.Context, r Request) ([]meta.CDNTask, error) {
	if err := r.check(false); err != nil {
		return nil, err
	}
	if len(r.URLs) > 0 {
		objs, err := s.publicObjects(r.URLs)
		if err != nil {
			return nil, err
		}
		return one(s.enqueue(ctx, KindPrefetch, "admin", objs))
	}
	var out []meta.CDNTask
	for _, id := range r.ImageIDs {
		im, err := s.store.FindImageByID(ctx, id)
		if err != nil {
			return nil, err
		}
		t, err := s.PrefetchImage(ctx, im, "admin")
		if err != nil {
			return nil, err
		}
		if t != nil {
			out = append(out, *t)
		}
	}
	return out, nil
}

// PrefetchImage queues the warming of im's prefetch presets in every
// negotiated format (nil, nil without presets, signer, or a public image).
func (s *Service) PrefetchImage(ctx context.Context, im *imgmgr.Image, reason string) (*meta.CDNTask, error) {
	if len(s.cfg.PrefetchPresets) == 0 || s.signer == nil || im.Visibility != imgmgr.Public {
		return nil, nil
	}
	var objs []Object
	for _, p := range s.cfg.PrefetchPresets {
		path, err := s.signer.SignImage(im, "pr:"+p, "", 0)
		if err != nil {
			return nil, imgmgr.Wrap("cdn.PrefetchImage", err)
		}
		objs = append(objs, s.objects(s.cfg.PublicBaseURL+path, true)...)
	}
	return s.enqueue(ctx, KindPrefetch, reason, objs)
}

// publicObjects makes URLs absolute under the public base; absolute URLs
// must be on it (the CDN caches nothing else of ours).
func (s *Service) publicObjects(urls []string) ([]Object, error) {
	objs := make([]Object, len(urls))
	for i, u := range urls {
		switch {
		case strings.HasPrefix(u, "/"):
			u = s.cfg.PublicBaseURL + u
		case !strings.HasPrefix(u, s.cfg.PublicBaseURL+"/"):
			return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_url", "%q is neither a path nor under cdn.public_base_url", u)
		}
		objs[i] = Object{URL: u}
	}
	return objs, nil
}

// Task returns one task.
func (s *Service) Task(ctx context.Context, id string) (*meta.CDNTask, error) {
	return s.store.FindCDNTask(ctx, id)
}

// Tasks lists tasks, newest first, optionally in one state.
func (s *Service) Tasks(ctx context.Context, state string, limit int) ([]meta.CDNTask, error) {
	switch state {
	case "", meta.CDNQueued, meta.CDNSubmitted, meta.CDNInProgress, meta.CDNDone, meta.CDNFailed:
	default:
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_state", "state must be queued, submitted, in_progress, done or failed")
	}
	return s.store.ListCDNTasks(ctx, meta.CDNTaskFilter{State: state, Limit: limit})
}

func one(t *meta.CDNTask, err error) ([]meta.CDNTask, error) {
	if err != nil {
		return nil, err
	}
	return []meta.CDNTask{*t}, nil
}
