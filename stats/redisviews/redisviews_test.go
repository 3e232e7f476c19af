package redisviews

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/stats"
	"github.com/imgmgr/imgmgr/stats/statstest"
)

func TestConformance(t *testing.T) {
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "imgmgr-test-" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	statstest.Run(t, func(t *testing.T, now func() time.Time) stats.Views {
		v, err := New(rdb, prefix, now)
		if err != nil {
			t.Fatal(err)
		}
		return v
	})
}
