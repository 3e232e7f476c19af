package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

func newUploadLocker(t *testing.T, c *Client, cfg UploadLockConfig) *UploadLocker {
	t.Helper()
	l, err := c.NewUploadLocker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Two clients stand for two replicas.
func TestUploadLockExclusionAcrossReplicas(t *testing.T) {
	url, prefix := testenv.RedisURL(t), uniquePrefix(t)
	cfg := UploadLockConfig{TTL: 3 * time.Second, RenewEvery: 100 * time.Millisecond}
	a, b := newUploadLocker(t, open(t, url, prefix), cfg), newUploadLocker(t, open(t, url, prefix), cfg)
	ctx := context.Background()
	unlock, err := a.TryLock(ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.TryLock(ctx, "u1"); imgmgr.KindOf(err) != imgmgr.KindLocked {
		t.Fatalf("second replica: %v, want KindLocked", err)
	}
	other, err := b.TryLock(ctx, "u2")
	if err != nil {
		t.Fatalf("another upload: %v", err)
	}
	other()
	// Held past its TTL (3s, renewed every 100ms): the holder renews it. The
	// generous TTL keeps a loaded machine's scheduling delays from lapsing it.
	time.Sleep(3500 * time.Millisecond)
	if _, err := b.TryLock(ctx, "u1"); imgmgr.KindOf(err) != imgmgr.KindLocked {
		t.Fatalf("after the TTL, while held: %v, want KindLocked", err)
	}
	unlock()
	unlock2, err := b.TryLock(ctx, "u1")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	unlock2()
}

// The lock of a process that died (left without renewal) lapses.
func TestUploadLockOfDeadHolderLapses(t *testing.T) {
	c := openReal(t)
	ctx := context.Background()
	if err := c.rdb.Set(ctx, c.prefix+"tuslock:u1", "dead-process", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	l := newUploadLocker(t, c, UploadLockConfig{})
	if _, err := l.TryLock(ctx, "u1"); imgmgr.KindOf(err) != imgmgr.KindLocked {
		t.Fatalf("while the dead holder's lock lives: %v", err)
	}
	for i := 0; ; i++ {
		unlock, err := l.TryLock(ctx, "u1")
		if err == nil {
			unlock()
			return
		}
		if i == 500 {
			t.Fatal("the dead holder's lock never lapsed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The default lock lapses within a few seconds of its holder's death.
func TestUploadLockDefaults(t *testing.T) {
	l := newUploadLocker(t, openReal(t), UploadLockConfig{})
	if l.opts.ttl != 3*time.Second || l.opts.renewEvery != time.Second {
		t.Fatalf("defaults: ttl %v, renewed every %v; want 3s and 1s", l.opts.ttl, l.opts.renewEvery)
	}
}

func TestUploadLockConfigValidate(t *testing.T) {
	for _, c := range []UploadLockConfig{{TTL: time.Millisecond}, {RenewEvery: -1}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
