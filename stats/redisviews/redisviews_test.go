package redisviews

import (
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/stats"
	"github.com/imgmgr/imgmgr/stats/statstest"
)

func TestConformance(t *testing.T) {
	rdb, prefix := testenv.RedisClient(t)
	statstest.Run(t, func(t *testing.T, now func() time.Time) stats.Views {
		v, err := New(rdb, prefix, now)
		if err != nil {
			t.Fatal(err)
		}
		return v
	})
}
