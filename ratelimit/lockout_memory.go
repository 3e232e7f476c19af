package ratelimit

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// MemoryLockoutStore is a LockoutStore in this process, bounded like
// Memory: expired records go first, then the least recently failed.
type MemoryLockoutStore struct {
	maxKeys int
	now     func() time.Time

	mu   sync.Mutex
	keys map[string]*list.Element // of *failures
	lru  list.List                // front = most recent failure
}

type failures struct {
	key     string
	count   int
	until   time.Time
	expires time.Time
}

var _ LockoutStore = (*MemoryLockoutStore)(nil)

// NewMemoryLockoutStore keeps at most maxKeys records (default 100 000);
// now is the clock (default time.Now).
func NewMemoryLockoutStore(maxKeys int, now func() time.Time) *MemoryLockoutStore {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryLockoutStore{maxKeys: maxKeys, now: now, keys: make(map[string]*list.Element)}
}

// Fail implements LockoutStore.
func (s *MemoryLockoutStore) Fail(_ context.Context, key string, forget time.Duration) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.expire(now)
	f := s.find(key)
	if f == nil {
		for len(s.keys) >= s.maxKeys {
			s.remove(s.lru.Back())
		}
		f = &failures{key: key}
		s.keys[key] = s.lru.PushFront(f)
	} else {
		s.lru.MoveToFront(s.keys[key])
		if !now.Before(f.expires) {
			*f = failures{key: key}
		}
	}
	f.count++
	f.expires = now.Add(forget)
	return f.count, nil
}

// Lock implements LockoutStore.
func (s *MemoryLockoutStore) Lock(_ context.Context, key string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.find(key); f != nil && until.After(f.until) {
		f.until = until
	}
	return nil
}

// Locked implements LockoutStore.
func (s *MemoryLockoutStore) Locked(_ context.Context, key string) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.find(key); f != nil && s.now().Before(f.expires) {
		return f.until, nil
	}
	return time.Time{}, nil
}

// Reset implements LockoutStore.
func (s *MemoryLockoutStore) Reset(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.keys[key]; ok {
		s.remove(el)
	}
	return nil
}

func (s *MemoryLockoutStore) find(key string) *failures {
	if el, ok := s.keys[key]; ok {
		return el.Value.(*failures)
	}
	return nil
}

// expire drops records past their expiry, oldest failure first.
func (s *MemoryLockoutStore) expire(now time.Time) {
	for el := s.lru.Back(); el != nil; el = s.lru.Back() {
		if now.Before(el.Value.(*failures).expires) {
			return
		}
		s.remove(el)
	}
}

func (s *MemoryLockoutStore) remove(el *list.Element) {
	delete(s.keys, el.Value.(*failures).key)
	s.lru.Remove(el)
}

// Len returns the number of records held.
func (s *MemoryLockoutStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}
