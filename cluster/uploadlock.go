package cluster

import (
	"context"
	"errors"
	"time"

	"github.com/imgmgr/imgmgr"
)

// UploadLockConfig configures the tus upload locks.
type UploadLockConfig struct {
	// TTL is how long the lock of a holder that died outlives it; default
	// 3s, at least 1s. Keys are Prefix+"tuslock:"+id.
	TTL time.Duration
	// RenewEvery is how often a holder renews its lock; default TTL/3.
	// Renewing more often tolerates longer scheduling stalls.
	RenewEvery time.Duration
}

// Validate checks the config.
func (c UploadLockConfig) Validate() error {
	if c.TTL != 0 && c.TTL < time.Second {
		return errors.New("cluster: the upload lock TTL must be at least 1s")
	}
	if c.RenewEvery < 0 {
		return errors.New("cluster: the upload lock renewal period must not be negative")
	}
	return nil
}

// UploadLocker is a tus.Locker for replicas that share a staging store: a
// lease per upload, so the lock of a process that dies lapses after TTL.
// Safe for concurrent use.
type UploadLocker struct {
	c    *Client
	opts leaseOpts
}

// NewUploadLocker returns the locker; it does not contact Redis.
func (c *Client) NewUploadLocker(cfg UploadLockConfig) (*UploadLocker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	def(&cfg.TTL, 3*time.Second)
	if cfg.RenewEvery == 0 || cfg.RenewEvery > cfg.TTL/2 {
		cfg.RenewEvery = cfg.TTL / 3
	}
	return &UploadLocker{c: c, opts: leaseOpts{ttl: cfg.TTL, renewEvery: cfg.RenewEvery}}, nil
}

// TryLock takes the lock of upload id, or fails with KindLocked while
// another holds it, or KindUnavailable while Redis is unreachable.
func (l *UploadLocker) TryLock(ctx context.Context, id string) (func(), error) {
	ls, ok, err := l.c.tryLease(ctx, l.c.prefix+"tuslock:"+id, l.opts)
	if err != nil {
		var e *imgmgr.Error
		if errors.As(err, &e) && e.Kind == imgmgr.KindUnavailable {
			return nil, &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "lock_unavailable", Op: "cluster.UploadLocker.TryLock",
				Message: "uploads are briefly unavailable", RetryAfter: e.RetryAfter, Err: err}
		}
		return nil, l.c.wrap("cluster.UploadLocker.TryLock", err)
	}
	if !ok {
		return nil, &imgmgr.Error{Kind: imgmgr.KindLocked, Code: "upload_locked",
			Message: "another request is writing to this upload", RetryAfter: time.Second}
	}
	return func() { ls.releaseSoon() }, nil
}
