package delivery

import (
	"context"
	"sync"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

// AllVariantsTag is the cache tag every variant carries; imageTag(id) is
// the tag of one image's variants (see cdn.ImageTag, cdn.AllTag).
const AllVariantsTag = "imgmgr"

func imageTag(id string) string { return "img-" + id }

// setTags writes the cache tag header (Config.TagHeader), so that one
// purge by tag clears every size and format of an image.
func (s *Service) setTags(h interface{ Set(k, v string) }, im *imgmgr.Image) {
	if s.cfg.TagHeader != "" {
		h.Set(s.cfg.TagHeader, imageTag(im.ID)+","+AllVariantsTag)
	}
}

// urlRecorder remembers the variant URL paths served per image
// (meta.VariantURLs), so that CDNs without tags can be purged URL by URL.
// Each path is written once per process; the set is forgotten when it
// grows past urlSeenMax (a later serve writes again, which is harmless).
type urlRecorder struct {
	store meta.VariantURLs
	mu    sync.Mutex
	seen  map[string]bool
}

const urlSeenMax = 100000

func (u *urlRecorder) record(ctx context.Context, s *Service, imageID, path string, negotiated bool) {
	if u == nil || u.store == nil {
		return
	}
	key := imageID + " " + path
	u.mu.Lock()
	if u.seen[key] {
		u.mu.Unlock()
		return
	}
	if len(u.seen) >= urlSeenMax {
		u.seen = map[string]bool{}
	}
	u.seen[key] = true
	u.mu.Unlock()
	v := meta.VariantURL{ImageID: imageID, Path: path, Negotiated: negotiated}
	if err := u.store.PutVariantURL(context.WithoutCancel(ctx), v); err != nil {
		s.log.Warn("delivery: recording the variant URL", "path", path, "err", err)
		u.mu.Lock()
		delete(u.seen, key)
		u.mu.Unlock()
	}
}
