package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/meta"
)

type contextT = context.Context

// cacheKey = SHA-256(original sha256, canonical options, resolved format).
// Negotiated requests get their own key: they may be answered with the
// original bytes (see renderAndStore), an explicit format never is.
func cacheKey(sha, canonical, format string, negotiated bool) string {
	h := sha256.New()
	spec := format
	if negotiated {
		spec = "negotiated:" + format
	}
	io.WriteString(h, sha+"\x00"+canonical+"\x00"+spec)
	return hex.EncodeToString(h.Sum(nil))
}

// cached opens a stored variant; ok is false on a miss (or when the cache
// is off). The caller closes body.
func (s *Service) cached(ctx context.Context, key string) (body io.ReadCloser, ctype string, size int64, ok bool) {
	if s.cfg.CacheDisabled {
		return nil, "", 0, false
	}
	info, err := s.deps.Blobs.Stat(ctx, blob.VariantKey(key))
	if err != nil {
		if !imgmgr.IsNotFound(err) {
			s.log.Warn("delivery: variant cache stat", "key", key, "err", err)
		}
		return nil, "", 0, false
	}
	rc, err := s.deps.Blobs.Get(ctx, blob.VariantKey(key), 0, -1)
	if err != nil {
		return nil, "", 0, false
	}
	head := make([]byte, 32)
	n, _ := io.ReadFull(rc, head)
	head = head[:n]
	s.touch(key)
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytesReader(head), rc), rc}, imgmgr.MIMEType(sniffFormat(head)), info.Size, true
}

// store puts a rendered variant into the cache and its index, then evicts
// past the size cap. Failures are logged: the render is still served.
// It reports whether the variant is in the cache.
func (s *Service) store(ctx context.Context, key, sha, format string, body []byte) bool {
	if s.cfg.CacheDisabled {
		return false
	}
	info, err := s.deps.Blobs.Put(ctx, blob.VariantKey(key), bytesReader(body))
	if err != nil {
		s.log.Error("delivery: storing variant", "key", key, "err", err)
		return false
	}
	now := s.now()
	rec := meta.VariantRecord{Key: key, SHA256: sha, Size: info.Size, Format: format, CreatedAt: now, AccessedAt: now}
	if err := s.deps.Variants.PutVariant(ctx, rec); err != nil {
		s.log.Error("delivery: indexing variant", "key", key, "err", err)
	}
	if s.cfg.CacheMaxBytes > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.evict()
		}()
	}
	return true
}

// evict deletes least recently used variants while the cache is over its
// cap. One eviction runs at a time; others return at once.
func (s *Service) evict() {
	if !s.evicting.TryLock() {
		return
	}
	defer s.evicting.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	size, err := s.deps.Variants.VariantCacheSize(ctx)
	for err == nil && size > s.cfg.CacheMaxBytes {
		var recs []meta.VariantRecord
		if recs, err = s.deps.Variants.LeastRecentVariants(ctx, 64); err != nil || len(recs) == 0 {
			break
		}
		for _, v := range recs {
			if size <= s.cfg.CacheMaxBytes {
				break
			}
			if err = s.deleteVariant(ctx, v.Key); err != nil {
				break
			}
			size -= v.Size
			s.m.evicted.Inc()
		}
	}
	if err != nil {
		s.log.Error("delivery: evicting variants", "err", err)
	}
}

func (s *Service) deleteVariant(ctx context.Context, key string) error {
	if err := s.deps.Blobs.Delete(ctx, blob.VariantKey(key)); err != nil {
		return err
	}
	return s.deps.Variants.DeleteVariant(ctx, key)
}

// DeleteVariants deletes every cached variant of the original with this
// SHA-256 (call it when the last image using the original is deleted, or
// whenever its variants must go).
func (s *Service) DeleteVariants(ctx context.Context, sha string) error {
	recs, err := s.deps.Variants.ListVariantsBySHA(ctx, sha)
	if err != nil {
		return imgmgr.Wrap("delivery.DeleteVariants", err)
	}
	for _, v := range recs {
		if err := s.deleteVariant(ctx, v.Key); err != nil {
			return imgmgr.Wrap("delivery.DeleteVariants", err)
		}
	}
	return nil
}

// touch records a cache hit for LRU eviction, at most once a minute per
// key and off the request path; when the queue is full the touch is lost.
func (s *Service) touch(key string) {
	select {
	case s.touches <- key:
	default:
	}
}

func (s *Service) touchLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.stop:
			return
		case key := <-s.touches:
			now := s.now()
			if last, ok := s.touched[key]; ok && now.Sub(last) < time.Minute {
				continue
			}
			if len(s.touched) > 100_000 {
				clear(s.touched)
			}
			s.touched[key] = now
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := s.deps.Variants.TouchVariant(ctx, key, now); err != nil && !imgmgr.IsNotFound(err) {
				s.log.Warn("delivery: touching variant", "key", key, "err", err)
			}
			cancel()
		}
	}
}
