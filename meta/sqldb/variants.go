package sqldb

import (
	"context"
	"time"

	"github.com/imgmgr/imgmgr/meta"
)

const variantCols = `key, sha256, size, format, created_at, accessed_at`

func scanVariant(sc scanner) (meta.VariantRecord, error) {
	var v meta.VariantRecord
	err := sc.Scan(&v.Key, &v.SHA256, &v.Size, &v.Format, timeScan{&v.CreatedAt}, timeScan{&v.AccessedAt})
	return v, err
}

// PutVariant inserts or replaces the record with v.Key. Zero times become
// now; AccessedAt defaults to CreatedAt.
func (db *DB) PutVariant(ctx context.Context, v meta.VariantRecord) error {
	if v.CreatedAt.IsZero() {
		v.CreatedAt = now()
	}
	if v.AccessedAt.IsZero() {
		v.AccessedAt = v.CreatedAt
	}
	_, err := db.exec(ctx, db.w, `INSERT INTO variants (`+variantCols+`) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,
		format = excluded.format, created_at = excluded.created_at, accessed_at = excluded.accessed_at`,
		v.Key, v.SHA256, v.Size, v.Format, db.tv(v.CreatedAt), db.tv(v.AccessedAt))
	return db.fail("meta.PutVariant", err)
}

// TouchVariant records an access; NotFound when the key is not indexed.
func (db *DB) TouchVariant(ctx context.Context, key string, at time.Time) error {
	res, err := db.exec(ctx, db.w, `UPDATE variants SET accessed_at = ? WHERE key = ?`, db.tv(at), key)
	return db.fail("meta.TouchVariant", mustAffect(res, err, "variant"))
}

// ListVariantsBySHA returns the variants of an original, by key.
func (db *DB) ListVariantsBySHA(ctx context.Context, sha256 string) ([]meta.VariantRecord, error) {
	vs, err := db.queryVariants(ctx, `SELECT `+variantCols+` FROM variants WHERE sha256 = ? ORDER BY key`, sha256)
	return vs, db.fail("meta.ListVariantsBySHA", err)
}

// DeleteVariant removes the record; NotFound when the key is not indexed.
func (db *DB) DeleteVariant(ctx context.Context, key string) error {
	res, err := db.exec(ctx, db.w, `DELETE FROM variants WHERE key = ?`, key)
	return db.fail("meta.DeleteVariant", mustAffect(res, err, "variant"))
}

// VariantCacheSize sums the sizes of the indexed variants.
func (db *DB) VariantCacheSize(ctx context.Context) (int64, error) {
	var n int64
	err := db.queryRow(ctx, db.r, `SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM variants`).Scan(&n)
	return n, db.fail("meta.VariantCacheSize", err)
}

// LeastRecentVariants lists up to limit records, least recently accessed
// first (ties by key).
func (db *DB) LeastRecentVariants(ctx context.Context, limit int) ([]meta.VariantRecord, error) {
	if limit <= 0 {
		return []meta.VariantRecord{}, nil
	}
	vs, err := db.queryVariants(ctx, `SELECT `+variantCols+` FROM variants ORDER BY accessed_at, key LIMIT ?`, limit)
	return vs, db.fail("meta.LeastRecentVariants", err)
}

func (db *DB) queryVariants(ctx context.Context, q string, args ...any) ([]meta.VariantRecord, error) {
	rows, err := db.query(ctx, db.r, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	vs := []meta.VariantRecord{}
	for rows.Next() {
		v, err := scanVariant(rows)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}
