package redislock_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/upload/tus/redislock"
)

func newLocker(t *testing.T, url, prefix string) *redislock.Locker {
	t.Helper()
	l, err := redislock.New(context.Background(), redislock.Config{URL: url, Prefix: prefix, TTL: 3 * time.Second, RenewEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// Two lockers stand for two replicas.
func TestExclusionAcrossLockers(t *testing.T) {
	url := testenv.RedisURL(t)
	prefix := fmt.Sprintf("imgmgr-test:%s:%d:", t.Name(), time.Now().UnixNano())
	a, b := newLocker(t, url, prefix), newLocker(t, url, prefix)
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
func TestDeadHoldersLockLapses(t *testing.T) {
	url := testenv.RedisURL(t)
	prefix := fmt.Sprintf("imgmgr-test:%s:%d:", t.Name(), time.Now().UnixNano())
	opt, _ := redis.ParseURL(url)
	raw := redis.NewClient(opt)
	defer raw.Close()
	ctx := context.Background()
	if err := raw.Set(ctx, prefix+"tuslock:u1", "dead-process", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	l := newLocker(t, url, prefix)
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

func TestConfigValidate(t *testing.T) {
	for _, c := range []redislock.Config{{}, {URL: "http://x"}, {URL: "redis://127.0.0.1:6379", TTL: time.Millisecond}} {
		if c.Validate() == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
