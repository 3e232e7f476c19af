package delivery

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/imgmgr/imgmgr"
)

// recentImages remembers the image records of recently served variants, so
// that while the metadata store is unreachable the variants already in the
// blob cache are still served (a cache that any replica rebuilds, not
// state). Entries live at most ttl: a record changed on another replica
// (made private, deleted) just before an outage is not trusted for long.
// A deleted image's variants leave the blob cache with it, so a stale
// entry finds nothing to serve. Safe for concurrent use.
type recentImages struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	order *list.List // of *recentEntry, most recent first
	byID  map[string]*list.Element
}

type recentEntry struct {
	im *imgmgr.Image
	at time.Time
}

func newRecentImages(max int, ttl time.Duration, now func() time.Time) *recentImages {
	return &recentImages{max: max, ttl: ttl, now: now, order: list.New(), byID: map[string]*list.Element{}}
}

func (c *recentImages) put(im *imgmgr.Image) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[im.ID]; ok {
		e.Value = &recentEntry{im: im, at: c.now()}
		c.order.MoveToFront(e)
		return
	}
	c.byID[im.ID] = c.order.PushFront(&recentEntry{im: im, at: c.now()})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byID, last.Value.(*recentEntry).im.ID)
	}
}

func (c *recentImages) get(id string) (*imgmgr.Image, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[id]
	if !ok {
		return nil, false
	}
	ent := e.Value.(*recentEntry)
	if c.now().Sub(ent.at) > c.ttl {
		c.order.Remove(e)
		delete(c.byID, id)
		return nil, false
	}
	return ent.im, true
}

// findImage finds the image of a variant request. When the metadata store
// is unavailable it falls back to a recent record: remembered reports
// that, and the caller then serves only what the cache already has.
func (s *Service) findImage(ctx context.Context, id string) (im *imgmgr.Image, remembered bool, err error) {
	im, err = s.deps.Images.FindImageByID(ctx, id)
	if err == nil {
		s.recent.put(im)
		return im, false, nil
	}
	if imgmgr.KindOf(err) == imgmgr.KindUnavailable {
		if im, ok := s.recent.get(id); ok {
			s.log.WarnContext(ctx, "delivery: metadata store unavailable; serving the cache from a recent record", "image", id, "err", err)
			return im, true, nil
		}
	}
	return nil, false, err
}
