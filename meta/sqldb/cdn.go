package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

const cdnCols = `id, provider, kind, state, items, reason, attempts, next_attempt_at, lease_until, claim, vendor_ids,
	error, created_at, submitted_at, done_at, updated_at`

func scanCDNTask(sc scanner) (*meta.CDNTask, error) {
	var t meta.CDNTask
	var ids string
	err := sc.Scan(&t.ID, &t.Provider, &t.Kind, &t.State, &t.Items, &t.Reason, &t.Attempts, timeScan{&t.NextAttemptAt},
		timeScan{&t.LeaseUntil}, &t.Claim, &ids, &t.Error, timeScan{&t.CreatedAt}, timeScan{&t.SubmittedAt},
		timeScan{&t.DoneAt}, timeScan{&t.UpdatedAt})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ids), &t.VendorIDs); err != nil {
		return nil, err
	}
	return &t, nil
}

func idsJSON(ids []string) string {
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// CreateCDNTasks inserts ts as queued in one transaction.
func (db *DB) CreateCDNTasks(ctx context.Context, ts []*meta.CDNTask) error {
	const op = "meta.CreateCDNTasks"
	t0 := now()
	for _, t := range ts {
		if t.Provider == "" || t.Kind == "" {
			return imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_cdn_task", "provider and kind are required"))
		}
		if t.ID == "" {
			t.ID = newID()
		}
		t.State, t.Attempts, t.Claim, t.Error, t.LeaseUntil = meta.CDNQueued, 0, "", "", time.Time{}
		t.CreatedAt, t.UpdatedAt = t0, t0
		if t.NextAttemptAt.IsZero() {
			t.NextAttemptAt = t0
		}
		t.NextAttemptAt = norm(t.NextAttemptAt)
		if t.Items == nil {
			t.Items = []byte("[]")
		}
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range ts {
			if _, err := db.exec(ctx, tx, `INSERT INTO cdn_tasks (`+cdnCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				t.ID, t.Provider, t.Kind, t.State, t.Items, t.Reason, 0, db.tv(t.NextAttemptAt), nil, "", idsJSON(t.VendorIDs),
				"", db.tv(t.CreatedAt), nil, nil, db.tv(t.UpdatedAt)); err != nil {
				return db.conflictOr(err, "cdn_task_exists", "cdn task %s already exists", t.ID)
			}
		}
		return nil
	})
	return db.fail(op, err)
}

// ClaimCDNTasks leases due tasks of provider (see meta.CDNTasks). SQLite
// serialises writers; PostgreSQL locks the selected rows and skips rows
// another claimer holds.
func (db *DB) ClaimCDNTasks(ctx context.Context, provider string, limit int, lease time.Duration) ([]meta.CDNTask, error) {
	const op = "meta.ClaimCDNTasks"
	if limit <= 0 || lease <= 0 {
		return nil, imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_claim", "limit and lease must be positive"))
	}
	var out []meta.CDNTask
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		t := now()
		ids, err := db.claimableCDN(ctx, tx, provider, t, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		args := append([]any{newID(), db.tv(t.Add(lease)), db.tv(t)}, ids...)
		if _, err := db.exec(ctx, tx, `UPDATE cdn_tasks SET claim = ?, lease_until = ?, updated_at = ?,
			attempts = CASE WHEN state IN ('queued', 'submitted') THEN attempts + 1 ELSE attempts END,
			state = CASE WHEN state = 'queued' THEN 'submitted' ELSE state END
			WHERE id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
			return err
		}
		out, err = db.queryCDN(ctx, tx, `SELECT `+cdnCols+` FROM cdn_tasks WHERE id IN (`+placeholders(len(ids))+
			`) ORDER BY next_attempt_at, id`, ids...)
		return err
	})
	if out == nil {
		out = []meta.CDNTask{}
	}
	return out, db.fail(op, err)
}

func (db *DB) claimableCDN(ctx context.Context, tx *sql.Tx, provider string, t time.Time, limit int) ([]any, error) {
	return db.queryIDs(ctx, tx, `SELECT id FROM cdn_tasks WHERE provider = ? AND (
		(state IN ('queued', 'in_progress') AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?))
		OR (state = 'submitted' AND lease_until <= ?))
		ORDER BY next_attempt_at, id LIMIT ? `+db.d.LockSkip, provider, db.tv(t), db.tv(t), db.tv(t), limit)
}

// SaveCDNTasks records outcomes of claimed tasks whose claim still holds.
func (db *DB) SaveCDNTasks(ctx context.Context, ts []meta.CDNTask) ([]string, error) {
	lost := []string{}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		t0 := now()
		for _, t := range ts {
			res, err := db.exec(ctx, tx, `UPDATE cdn_tasks SET state = ?, next_attempt_at = ?, vendor_ids = ?, error = ?,
				submitted_at = ?, done_at = ?, lease_until = NULL, claim = '', updated_at = ? WHERE id = ? AND claim = ?`,
				t.State, db.tv(t.NextAttemptAt), idsJSON(t.VendorIDs), t.Error, db.tzv(t.SubmittedAt), db.tzv(t.DoneAt),
				db.tv(t0), t.ID, t.Claim)
			if err := mustAffect(res, err, "cdn task"); imgmgr.IsNotFound(err) {
				lost = append(lost, t.ID)
			} else if err != nil {
				return err
			}
		}
		return nil
	})
	return lost, db.fail("meta.SaveCDNTasks", err)
}

// FindCDNTask returns the task or a NotFound.
func (db *DB) FindCDNTask(ctx context.Context, id string) (*meta.CDNTask, error) {
	t, err := scanCDNTask(db.queryRow(ctx, db.r, `SELECT `+cdnCols+` FROM cdn_tasks WHERE id = ?`, id))
	return t, db.fail("meta.FindCDNTask", notFoundIfNoRows(err, "cdn task"))
}

// ListCDNTasks lists tasks newest first.
func (db *DB) ListCDNTasks(ctx context.Context, f meta.CDNTaskFilter) ([]meta.CDNTask, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, 1000)
	q, args := `SELECT `+cdnCols+` FROM cdn_tasks`, []any{}
	if f.State != "" {
		q += ` WHERE state = ?`
		args = append(args, f.State)
	}
	ts, err := db.queryCDN(ctx, db.r, q+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, f.Limit)...)
	if ts == nil {
		ts = []meta.CDNTask{}
	}
	return ts, db.fail("meta.ListCDNTasks", err)
}

// CountCDNTasks counts tasks by provider, kind and state.
func (db *DB) CountCDNTasks(ctx context.Context) ([]meta.CDNTaskCount, error) {
	rows, err := db.query(ctx, db.r, `SELECT provider, kind, state, COUNT(*) FROM cdn_tasks GROUP BY provider, kind, state
		ORDER BY provider, kind, state`)
	if err != nil {
		return nil, db.fail("meta.CountCDNTasks", err)
	}
	defer rows.Close()
	out := []meta.CDNTaskCount{}
	for rows.Next() {
		var c meta.CDNTaskCount
		if err := rows.Scan(&c.Provider, &c.Kind, &c.State, &c.N); err != nil {
			return nil, db.fail("meta.CountCDNTasks", err)
		}
		out = append(out, c)
	}
	return out, db.fail("meta.CountCDNTasks", rows.Err())
}

func (db *DB) queryCDN(ctx context.Context, q querier, query string, args ...any) ([]meta.CDNTask, error) {
	return queryAll(ctx, db, q, scanCDNTask, query, args...)
}

// PutVariantURL records a served variant path; a known one is kept.
func (db *DB) PutVariantURL(ctx context.Context, v meta.VariantURL) error {
	if v.CreatedAt.IsZero() {
		v.CreatedAt = now()
	}
	_, err := db.exec(ctx, db.w, `INSERT INTO variant_urls (image_id, path, negotiated, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (image_id, path) DO NOTHING`, v.ImageID, v.Path, v.Negotiated, db.tv(v.CreatedAt))
	return db.fail("meta.PutVariantURL", err)
}

// ListVariantURLs lists an image's served variant paths, by path.
func (db *DB) ListVariantURLs(ctx context.Context, imageID string) ([]meta.VariantURL, error) {
	rows, err := db.query(ctx, db.r, `SELECT image_id, path, negotiated, created_at FROM variant_urls WHERE image_id = ?
		ORDER BY path`, imageID)
	if err != nil {
		return nil, db.fail("meta.ListVariantURLs", err)
	}
	defer rows.Close()
	out := []meta.VariantURL{}
	for rows.Next() {
		var v meta.VariantURL
		if err := rows.Scan(&v.ImageID, &v.Path, &v.Negotiated, timeScan{&v.CreatedAt}); err != nil {
			return nil, db.fail("meta.ListVariantURLs", err)
		}
		out = append(out, v)
	}
	return out, db.fail("meta.ListVariantURLs", rows.Err())
}

// DeleteVariantURLs forgets an image's variant paths.
func (db *DB) DeleteVariantURLs(ctx context.Context, imageID string) error {
	_, err := db.exec(ctx, db.w, `DELETE FROM variant_urls WHERE image_id = ?`, imageID)
	return db.fail("meta.DeleteVariantURLs", err)
}
