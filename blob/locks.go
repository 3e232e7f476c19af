package blob

import (
	"context"
	"sync"
)

// KeyLocker excludes holders of one key (a content address) — across
// processes when the implementation is shared — so that storing a blob (or
// finding it already stored) and deleting it when its last row goes never
// race. Implementations are safe for concurrent use; blob/locktest is
// their conformance suite.
type KeyLocker interface {
	// Lock blocks until key is held or ctx ends; unlock releases it.
	// Errors: ctx.Err(), or KindUnavailable when the lock service is down.
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Locks is the KeyLocker of one process: a set of mutexes keyed by string.
// The zero value is ready to use.
type Locks struct {
	mu    sync.Mutex
	locks map[string]*keyLock
}

var _ KeyLocker = (*Locks)(nil)

// keyLock is a mutex that a waiter can give up on: a token in a channel of
// one.
type keyLock struct {
	token chan struct{}
	refs  int
}

// Lock implements KeyLocker.
func (l *Locks) Lock(ctx context.Context, key string) (unlock func(), err error) {
	k := l.ref(key)
	select {
	case k.token <- struct{}{}:
	case <-ctx.Done():
		l.unref(key, k)
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			<-k.token
			l.unref(key, k)
		})
	}, nil
}

// ref finds or makes the lock of key and counts one more user of it.
func (l *Locks) ref(key string) *keyLock {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locks == nil {
		l.locks = make(map[string]*keyLock)
	}
	k := l.locks[key]
	if k == nil {
		k = &keyLock{token: make(chan struct{}, 1)}
		l.locks[key] = k
	}
	k.refs++
	return k
}

// unref forgets the lock of key when its last user is gone.
func (l *Locks) unref(key string, k *keyLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k.refs--; k.refs == 0 {
		delete(l.locks, key)
	}
}
