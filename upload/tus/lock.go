package tus

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imgmgr/imgmgr"
)

// locks gives each upload one writer at a time, in this process. A lock is
// released when the request holding it ends. A holder that has received
// nothing for staleAfter (its client is likely gone, and the connection not
// yet noticed dead) is interrupted when a newer request asks for the lock,
// so a client that reconnects is not shut out until a timeout.
type locks struct {
	staleAfter time.Duration
	shared     Locker // may be nil
	mu         sync.Mutex
	held       map[string]*lease
}

// Locker excludes writers of one upload across processes, for replicas that
// share a staging store. TryLock fails with KindLocked while another process
// holds id; a lock is released by unlock, or lapses when its holder dies.
type Locker interface {
	TryLock(ctx context.Context, id string) (unlock func(), err error)
}

// lease is one holder of an upload's lock.
type lease struct {
	id        string
	l         *locks
	last      atomic.Int64 // unix nanoseconds of the last progress
	interrupt func()       // stops the holder's body reads; may be nil
	unshare   func()       // releases the shared lock; may be nil
	done      chan struct{}
}

// touch records progress, which keeps the lease from being taken over.
func (s *lease) touch() { s.last.Store(time.Now().UnixNano()) }

// release frees the lock.
func (s *lease) release() {
	if s.unshare != nil {
		s.unshare()
	}
	s.l.mu.Lock()
	if s.l.held[s.id] == s {
		delete(s.l.held, s.id)
	}
	s.l.mu.Unlock()
	close(s.done)
}

func errLocked() error {
	return &imgmgr.Error{Kind: imgmgr.KindLocked, Code: "upload_locked",
		Message: "another request is writing to this upload", RetryAfter: time.Second}
}

// acquire takes the lock of id for a request whose body reads interrupt
// stops. It fails with KindLocked while an active request holds it.
func (l *locks) acquire(ctx context.Context, id string, interrupt func()) (*lease, error) {
	for range 3 {
		l.mu.Lock()
		cur := l.held[id]
		if cur == nil {
			s := &lease{id: id, l: l, interrupt: interrupt, done: make(chan struct{})}
			s.touch()
			if l.held == nil {
				l.held = map[string]*lease{}
			}
			l.held[id] = s
			l.mu.Unlock()
			if err := l.share(ctx, s); err != nil {
				return nil, err
			}
			return s, nil
		}
		l.mu.Unlock()
		if time.Since(time.Unix(0, cur.last.Load())) < l.staleAfter || cur.interrupt == nil {
			return nil, errLocked()
		}
		cur.interrupt()
		select {
		case <-cur.done:
		case <-time.After(5 * time.Second):
			return nil, errLocked()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, errLocked()
}

// share takes the shared lock for a lease just taken here; on failure the
// lease is released and nil is returned with the error.
func (l *locks) share(ctx context.Context, s *lease) error {
	if l.shared == nil {
		return nil
	}
	unlock, err := l.shared.TryLock(ctx, s.id)
	if err != nil {
		s.release()
		return err
	}
	s.unshare = unlock
	return nil
}

// tryAcquire takes the lock of id only when it is free (the sweep, and a
// new final upload).
func (l *locks) tryAcquire(ctx context.Context, id string) *lease {
	l.mu.Lock()
	if l.held[id] != nil {
		l.mu.Unlock()
		return nil
	}
	s := &lease{id: id, l: l, done: make(chan struct{})}
	if l.held == nil {
		l.held = map[string]*lease{}
	}
	l.held[id] = s
	l.mu.Unlock()
	if l.share(ctx, s) != nil {
		return nil
	}
	return s
}

// counter bounds something per user.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(user string, d, max int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if d > 0 && max > 0 && c.n[user]+d > max {
		return false
	}
	c.n[user] += d
	if c.n[user] <= 0 {
		delete(c.n, user)
	}
	return true
}
