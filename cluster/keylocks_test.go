package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/locktest"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

func newKeyLocks(t *testing.T, c *Client) *KeyLocks {
	t.Helper()
	k, err := c.NewKeyLocks(KeyLocksConfig{TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// Two clients with one prefix stand for two replicas.
func TestKeyLocksConformance(t *testing.T) {
	url := testenv.RedisURL(t)
	locktest.Run(t, locktest.Backend{
		Open: func(t *testing.T) (blob.KeyLocker, blob.KeyLocker) {
			prefix := uniquePrefix(t)
			return newKeyLocks(t, open(t, url, prefix)), newKeyLocks(t, open(t, url, prefix))
		},
		Die:   func(a blob.KeyLocker) { a.(*KeyLocks).Close() },
		Lapse: time.Second,
	})
}

// With Redis cut off, Lock fails fast with KindUnavailable.
func TestKeyLocksRedisDown(t *testing.T) {
	p := testenv.RedisProxy(t)
	k := newKeyLocks(t, open(t, p.URL(), uniquePrefix(t)))
	p.Cut()
	for range 3 {
		start := time.Now()
		_, err := k.Lock(context.Background(), "k")
		mustUnavailable(t, "Lock with Redis down", err)
		if d := time.Since(start); d > time.Second {
			t.Errorf("Lock took %v to fail", d)
		}
	}
}
