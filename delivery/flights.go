package delivery

import (
	"context"
	"io"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/variant"
)

// Flights elects one renderer of a variant cache key across replicas, so
// that N replicas asked for the same cold variant at once render it once
// (the pool already coalesces the requests of one process).
type Flights interface {
	// Lead tries to take the render lease of key (renewed while held).
	// ok: this replica renders, and must call done(stored) when the render
	// is in the shared cache (stored) or failed (!stored); done releases
	// the lease if it still holds it and wakes the waiters. !ok: another
	// replica holds the lease. err: the lease service is unavailable; the
	// caller renders on its own.
	Lead(ctx context.Context, key string) (done func(stored bool), ok bool, err error)
	// Wait blocks until the leader of key calls done, its lease lapses (its
	// holder died), or ctx ends (returning ctx.Err()). It returns nil in the
	// first two cases: the caller then looks in the cache, and leads itself
	// if the variant is not there.
	Wait(ctx context.Context, key string) error
}

// renderOnce renders the variant of t here, or, when another replica holds
// its lease, waits for that replica's result in the shared cache. Without
// Flights (one replica) it just renders.
func (s *Service) renderOnce(ctx context.Context, im *imgmgr.Image, o variant.Options, t target, accept string) (*rendered, error) {
	if s.deps.Flights == nil {
		res, _, err := s.renderAndStore(ctx, im, o, t, accept)
		return res, err
	}
	for {
		done, lead, err := s.deps.Flights.Lead(ctx, t.key)
		if err != nil {
			s.m.leases.WithLabelValues("unavailable").Inc()
			s.log.Warn("delivery: render lease unavailable; rendering here", "key", t.key, "err", err)
			res, _, err := s.renderAndStore(ctx, im, o, t, accept)
			return res, err
		}
		if lead {
			s.m.leases.WithLabelValues("led").Inc()
			res, stored, err := s.renderAndStore(ctx, im, o, t, accept)
			done(stored)
			return res, err
		}
		s.m.leases.WithLabelValues("waited").Inc()
		if err := s.deps.Flights.Wait(ctx, t.key); err != nil {
			return nil, s.renderTimeout(err)
		}
		if res, ok := s.cachedRendered(ctx, t.key); ok {
			s.m.leases.WithLabelValues("served").Inc()
			return res, nil
		}
		// The leader failed or died without storing: try to lead.
	}
}

// cachedRendered reads a stored variant whole (a follower's answer).
func (s *Service) cachedRendered(ctx context.Context, key string) (*rendered, bool) {
	body, ctype, size, ok := s.cached(ctx, key)
	if !ok {
		return nil, false
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, size+1))
	if err != nil || int64(len(b)) != size {
		return nil, false
	}
	return &rendered{body: b, contentType: ctype}, true
}
