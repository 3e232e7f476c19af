package ratelimit

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
)

// LockoutStore keeps login failures per key. Implementations are safe for
// concurrent use; see NewMemoryLockoutStore and cluster.LockoutStore.
type LockoutStore interface {
	// Fail counts one more failure for key and returns the count so far.
	// The record (count and lock) is forgotten after forget with no failure.
	Fail(ctx context.Context, key string, forget time.Duration) (int, error)
	// Lock makes key locked until at least until; a later lock is kept.
	Lock(ctx context.Context, key string, until time.Time) error
	// Locked returns when key's lock ends; the zero time when there is none.
	Locked(ctx context.Context, key string) (time.Time, error)
	// Reset forgets key.
	Reset(ctx context.Context, key string) error
}

// LockoutConfig is the growing delay policy. Zero fields take defaults.
type LockoutConfig struct {
	Free   int           // failures allowed with no delay; default 5
	Base   time.Duration // delay after the first failure past Free; default 1s; doubles per failure
	Max    time.Duration // longest delay; default 15m
	Forget time.Duration // failures are forgotten after this long without one; default 24h
	Now    func() time.Time
}

func (c *LockoutConfig) setDefaults() {
	if c.Free == 0 {
		c.Free = 5
	}
	if c.Base == 0 {
		c.Base = time.Second
	}
	if c.Max == 0 {
		c.Max = 15 * time.Minute
	}
	if c.Forget == 0 {
		c.Forget = 24 * time.Hour
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate checks the policy after defaults are applied.
func (c LockoutConfig) Validate() error {
	c.setDefaults()
	switch {
	case c.Free < 0 || c.Base < 0 || c.Max < c.Base:
		return errors.New("ratelimit: lockout needs free >= 0 and 0 < base <= max")
	case c.Forget < c.Max:
		return errors.New("ratelimit: lockout forget must be at least max, or a lock would outlive its record")
	}
	return nil
}

// Lockout slows down password guessing per username and client IP: after
// Free failures each further failure locks the pair for a delay that
// doubles up to Max; a success resets it. Check before verifying a
// password, so that a locked pair costs no hashing and leaks no timing.
type Lockout struct {
	cfg   LockoutConfig
	store LockoutStore
}

// NewLockout returns a Lockout over store.
func NewLockout(store LockoutStore, cfg LockoutConfig) (*Lockout, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	return &Lockout{cfg: cfg, store: store}, nil
}

// LockoutKey is the key of a username and client IP pair; usernames are
// compared without case.
func LockoutKey(username, ip string) string {
	return strings.ToLower(strings.TrimSpace(username)) + "\x00" + ip
}

// Check returns nil when the pair may try a password, else a 429
// login_locked error carrying RetryAfter.
func (l *Lockout) Check(ctx context.Context, username, ip string) error {
	until, err := l.store.Locked(ctx, LockoutKey(username, ip))
	if err != nil {
		return unavailable("ratelimit.Lockout.Check", err)
	}
	if wait := until.Sub(l.cfg.Now()); wait > 0 {
		return &imgmgr.Error{Kind: imgmgr.KindRateLimited, Code: "login_locked",
			Message: "too many failed logins; try again later", RetryAfter: max(wait, time.Second)}
	}
	return nil
}

// Failure records a failed login and returns the delay now imposed on the
// pair (0 while within Free).
func (l *Lockout) Failure(ctx context.Context, username, ip string) (time.Duration, error) {
	key := LockoutKey(username, ip)
	n, err := l.store.Fail(ctx, key, l.cfg.Forget)
	if err != nil {
		return 0, unavailable("ratelimit.Lockout.Failure", err)
	}
	d := l.Delay(n)
	if d == 0 {
		return 0, nil
	}
	if err := l.store.Lock(ctx, key, l.cfg.Now().Add(d)); err != nil {
		return 0, unavailable("ratelimit.Lockout.Failure", err)
	}
	return d, nil
}

// Success forgets the pair's failures.
func (l *Lockout) Success(ctx context.Context, username, ip string) error {
	if err := l.store.Reset(ctx, LockoutKey(username, ip)); err != nil {
		return unavailable("ratelimit.Lockout.Success", err)
	}
	return nil
}

// Delay is the lock imposed after the n-th consecutive failure.
func (l *Lockout) Delay(n int) time.Duration {
	past := n - l.cfg.Free
	if past <= 0 {
		return 0
	}
	d := l.cfg.Base
	for i := 1; i < past && d < l.cfg.Max; i++ {
		d *= 2
	}
	return min(d, l.cfg.Max)
}

func unavailable(op string, err error) error {
	var e *imgmgr.Error
	if errors.As(err, &e) {
		return imgmgr.Wrap(op, err)
	}
	return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "unavailable", Op: op,
		Message: "the service is temporarily unavailable", RetryAfter: 5 * time.Second, Err: err}
}
