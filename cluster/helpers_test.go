package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// quiet is a logger for tests that expect warnings.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// uniquePrefix is a key prefix no other test uses.
func uniquePrefix(t testing.TB) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "imgmgr-test:" + hex.EncodeToString(b) + ":"
}

// open connects a Client to the real Redis (through url, which may point at
// a proxy) with the given prefix; the test's keys go when it ends.
func open(t testing.TB, rawURL, prefix string, tweak ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: rawURL, Prefix: prefix}
	for _, f := range tweak {
		f(&cfg)
	}
	c, err := Open(context.Background(), cfg, Deps{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, _ := c.rdb.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			c.rdb.Del(ctx, keys...)
		}
		c.Close()
	})
	return c
}

// openReal connects straight to the test Redis with a fresh prefix.
func openReal(t testing.TB) *Client {
	t.Helper()
	return open(t, testenv.RedisURL(t), uniquePrefix(t))
}
