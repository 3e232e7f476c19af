// Package redisviews counts views in Redis sorted sets, one per UTC day
// (ZINCRBY), so every replica contributes to one ranking.
package redisviews

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/imgmgr/imgmgr/stats"
)

// Views is a stats.Views over Redis.
type Views struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

var _ stats.Views = (*Views)(nil)

// New uses rdb with keys under prefix (e.g. "imgmgr:"); now may be nil.
func New(rdb redis.UniversalClient, prefix string, now func() time.Time) (*Views, error) {
	if rdb == nil {
		return nil, errors.New("redisviews: nil client")
	}
	if now == nil {
		now = time.Now
	}
	return &Views{rdb: rdb, prefix: prefix, now: now}, nil
}

func (v *Views) key(t time.Time) string { return v.prefix + "views:" + stats.Day(t) }

// Record implements stats.Views.
func (v *Views) Record(ctx context.Context, id string) error {
	k := v.key(v.now())
	p := v.rdb.Pipeline()
	p.ZIncrBy(ctx, k, 1, id)
	p.Expire(ctx, k, (stats.KeepDays+1)*24*time.Hour)
	_, err := p.Exec(ctx)
	return err
}

// Top implements stats.Views.
func (v *Views) Top(ctx context.Context, days, n int) ([]stats.ImageViews, error) {
	if n <= 0 {
		return []stats.ImageViews{}, nil
	}
	days = max(1, min(days, stats.KeepDays))
	keys := make([]string, days)
	for i := range keys {
		keys[i] = v.key(v.now().AddDate(0, 0, -i))
	}
	zs, err := v.rdb.ZUnionWithScores(ctx, redis.ZStore{Keys: keys}).Result()
	if err != nil {
		return nil, err
	}
	out := make([]stats.ImageViews, 0, len(zs))
	for _, z := range zs {
		out = append(out, stats.ImageViews{ID: z.Member.(string), Views: int64(z.Score)})
	}
	stats.Rank(out)
	return out[:min(n, len(out))], nil
}
