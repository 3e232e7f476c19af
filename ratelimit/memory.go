package ratelimit

import (
	"container/list"
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// MemoryConfig configures an in-process Limiter. Zero fields take defaults.
type MemoryConfig struct {
	Limit Limit
	// MaxKeys bounds the buckets kept; default 100 000. Past it the least
	// recently used bucket is dropped (that key starts afresh with a full
	// bucket). Buckets idle long enough to have refilled are dropped first,
	// which changes no decision.
	MaxKeys int
	// Now is the clock; default time.Now. Tests set it.
	Now func() time.Time
}

// Memory is a Limiter holding its buckets in this process
// (golang.org/x/time/rate), for a single replica.
type Memory struct {
	limit   Limit
	maxKeys int
	now     func() time.Time
	full    time.Duration // an idle bucket is full again after this

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // front = most recently used
}

type bucket struct {
	key      string
	lim      *rate.Limiter
	lastUsed time.Time
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an in-process Limiter.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	if err := cfg.Limit.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = 100_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	full := time.Duration(math.Ceil(float64(cfg.Limit.Burst) / cfg.Limit.Rate * float64(time.Second)))
	return &Memory{limit: cfg.Limit, maxKeys: cfg.MaxKeys, now: cfg.Now, full: full,
		keys: make(map[string]*list.Element)}, nil
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, cost int) (Decision, error) {
	if d, done, err := check(m.limit, cost); done {
		return d, err
	}
	now := m.now()
	lim := m.bucket(key, now)
	d := Decision{Limit: m.limit.Burst, Allowed: lim.AllowN(now, cost)}
	tokens := lim.TokensAt(now)
	if !d.Allowed {
		d.RetryAfter = m.durationFor(float64(cost) - tokens)
	}
	d.Remaining = max(int(math.Floor(tokens+1e-6)), 0)
	d.ResetAfter = m.durationFor(float64(m.limit.Burst) - tokens)
	return d, nil
}

// durationFor is the time n tokens take to refill, rounded up.
func (m *Memory) durationFor(n float64) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(math.Ceil(n / m.limit.Rate * float64(time.Second)))
}

// bucket finds or makes key's bucket, marks it used and drops stale ones.
func (m *Memory) bucket(key string, now time.Time) *rate.Limiter {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evictIdle(now)
	if el, ok := m.keys[key]; ok {
		b := el.Value.(*bucket)
		b.lastUsed = now
		m.lru.MoveToFront(el)
		return b.lim
	}
	for len(m.keys) >= m.maxKeys {
		m.remove(m.lru.Back())
	}
	b := &bucket{key: key, lim: rate.NewLimiter(rate.Limit(m.limit.Rate), m.limit.Burst), lastUsed: now}
	b.lim.SetLimitAt(now, rate.Limit(m.limit.Rate)) // start the bucket's clock at now
	m.keys[key] = m.lru.PushFront(b)
	return b.lim
}

// evictIdle drops buckets unused for long enough to have refilled: a fresh
// bucket would answer the same. The list is in order of use, so this stops
// at the first bucket still in use.
func (m *Memory) evictIdle(now time.Time) {
	for el := m.lru.Back(); el != nil; el = m.lru.Back() {
		if now.Sub(el.Value.(*bucket).lastUsed) < m.full {
			return
		}
		m.remove(el)
	}
}

func (m *Memory) remove(el *list.Element) {
	delete(m.keys, el.Value.(*bucket).key)
	m.lru.Remove(el)
}

// Len returns the number of buckets held (for metrics and tests).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}
