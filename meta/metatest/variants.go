package metatest

import (
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

func testVariants(t *testing.T, s meta.Store) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := func(key, sha string, size int64, accessed int) meta.VariantRecord {
		return meta.VariantRecord{Key: key, SHA256: sha, Size: size, Format: "webp",
			CreatedAt: base, AccessedAt: base.Add(time.Duration(accessed) * time.Minute)}
	}
	n, err := s.VariantCacheSize(ctx)
	must(t, "VariantCacheSize", err)
	equal(t, "empty cache size", n, int64(0))

	recs := []meta.VariantRecord{rec("k1", "shaA", 100, 3), rec("k2", "shaA", 200, 1), rec("k3", "shaB", 400, 2)}
	for _, r := range recs {
		must(t, "PutVariant", s.PutVariant(ctx, r))
	}
	n, err = s.VariantCacheSize(ctx)
	must(t, "VariantCacheSize", err)
	equal(t, "cache size", n, int64(700))

	list, err := s.ListVariantsBySHA(ctx, "shaA")
	must(t, "ListVariantsBySHA", err)
	equal(t, "ListVariantsBySHA", list, recs[:2])
	list, err = s.ListVariantsBySHA(ctx, "shaNone")
	must(t, "ListVariantsBySHA none", err)
	equal(t, "ListVariantsBySHA none", len(list), 0)

	lr, err := s.LeastRecentVariants(ctx, 10)
	must(t, "LeastRecentVariants", err)
	equal(t, "least recent first", lr, []meta.VariantRecord{recs[1], recs[2], recs[0]})
	lr, err = s.LeastRecentVariants(ctx, 2)
	must(t, "LeastRecentVariants", err)
	equal(t, "least recent, limited", lr, []meta.VariantRecord{recs[1], recs[2]})

	// Replace: same key, new size and format.
	replaced := meta.VariantRecord{Key: "k1", SHA256: "shaA", Size: 1000, Format: "avif",
		CreatedAt: base.Add(time.Hour), AccessedAt: base.Add(time.Hour)}
	must(t, "PutVariant replace", s.PutVariant(ctx, replaced))
	n, err = s.VariantCacheSize(ctx)
	must(t, "VariantCacheSize", err)
	equal(t, "cache size after replace", n, int64(1600))

	touched := base.Add(-time.Hour).Add(123456789 * time.Nanosecond)
	must(t, "TouchVariant", s.TouchVariant(ctx, "k1", touched))
	lr, err = s.LeastRecentVariants(ctx, 1)
	must(t, "LeastRecentVariants", err)
	replaced.AccessedAt = touched.Truncate(time.Microsecond)
	equal(t, "touched record", lr, []meta.VariantRecord{replaced})
	wantKind(t, "TouchVariant unknown", s.TouchVariant(ctx, "nope", touched), imgmgr.KindNotFound)

	must(t, "DeleteVariant", s.DeleteVariant(ctx, "k2"))
	wantKind(t, "DeleteVariant again", s.DeleteVariant(ctx, "k2"), imgmgr.KindNotFound)
	list, err = s.ListVariantsBySHA(ctx, "shaA")
	must(t, "ListVariantsBySHA", err)
	equal(t, "ListVariantsBySHA after delete", list, []meta.VariantRecord{replaced})
	n, err = s.VariantCacheSize(ctx)
	must(t, "VariantCacheSize", err)
	equal(t, "cache size after delete", n, int64(1400))

	// Zero times are filled in.
	must(t, "PutVariant without times", s.PutVariant(ctx, meta.VariantRecord{Key: "k4", SHA256: "shaC", Size: 1}))
	list, err = s.ListVariantsBySHA(ctx, "shaC")
	must(t, "ListVariantsBySHA", err)
	wantStored(t, "CreatedAt", list[0].CreatedAt)
	equal(t, "AccessedAt defaults to CreatedAt", list[0].AccessedAt, list[0].CreatedAt)
}
