package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// DefaultMaxAttempts is a job's MaxAttempts when it is enqueued with 0.
const DefaultMaxAttempts = 5

const jobCols = `id, kind, payload, attempts, max_attempts, run_at, lease_until, last_error, state, created_at, updated_at`

func scanJob(sc scanner) (*meta.Job, error) {
	var j meta.Job
	if err := sc.Scan(&j.ID, &j.Kind, &j.Payload, &j.Attempts, &j.MaxAttempts, timeScan{&j.RunAt},
		timeScan{&j.LeaseUntil}, &j.LastError, &j.State, timeScan{&j.CreatedAt}, timeScan{&j.UpdatedAt}); err != nil {
		return nil, err
	}
	return &j, nil
}

// EnqueueJob stores j as queued, filling ID, times (RunAt defaults to
// now) and MaxAttempts (DefaultMaxAttempts) when empty.
func (db *DB) EnqueueJob(ctx context.Context, j *meta.Job) error {
	const op = "meta.EnqueueJob"
	if j.Kind == "" {
		return imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_job", "job kind is required"))
	}
	if j.ID == "" {
		j.ID = newID()
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = DefaultMaxAttempts
	}
	t := now()
	j.CreatedAt, j.UpdatedAt = t, t
	if j.RunAt.IsZero() {
		j.RunAt = t
	}
	j.RunAt = norm(j.RunAt)
	j.State, j.Attempts, j.LeaseUntil, j.LastError = JobQueued, 0, time.Time{}, ""
	if j.Payload == nil {
		j.Payload = []byte{}
	}
	_, err := db.exec(ctx, db.w, `INSERT INTO jobs (`+jobCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.Kind, j.Payload, j.Attempts, j.MaxAttempts, db.tv(j.RunAt), nil, j.LastError, j.State,
		db.tv(j.CreatedAt), db.tv(j.UpdatedAt))
	return db.fail(op, db.conflictOr(err, "job_exists", "job %s already exists", j.ID))
}

// ClaimJobs leases up to limit jobs of the kinds (none = any kind) that are
// queued with RunAt passed, or running with an expired lease, oldest RunAt
// first; each claimed job is running, leased until now+lease, Attempts+1.
// A running job whose lease expired after its last attempt becomes failed
// instead. Concurrent callers never claim the same job: SQLite serialises
// writers; PostgreSQL locks the rows and skips locked ones.
func (db *DB) ClaimJobs(ctx context.Context, kinds []string, limit int, lease time.Duration) ([]meta.Job, error) {
	const op = "meta.ClaimJobs"
	if limit <= 0 || lease <= 0 {
		return nil, imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_claim", "limit and lease must be positive"))
	}
	var jobs []meta.Job
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		t := now()
		if err := db.failExpired(ctx, tx, t); err != nil {
			return err
		}
		ids, err := db.claimable(ctx, tx, t, kinds, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		args := append([]any{db.tv(t.Add(lease)), db.tv(t)}, ids...)
		if _, err := db.exec(ctx, tx, `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = ?,
			updated_at = ? WHERE id IN (`+placeholders(len(ids))+`)`, args...); err != nil {
			return err
		}
		jobs, err = db.queryJobs(ctx, tx, `SELECT `+jobCols+` FROM jobs WHERE id IN (`+placeholders(len(ids))+
			`) ORDER BY run_at, id`, ids...)
		return err
	})
	if err != nil {
		return nil, db.fail(op, err)
	}
	if jobs == nil {
		jobs = []meta.Job{}
	}
	return jobs, nil
}

// failExpired marks failed the running jobs whose lease expired after
// their last allowed attempt.
func (db *DB) failExpired(ctx context.Context, tx *sql.Tx, t time.Time) error {
	_, err := db.exec(ctx, tx, `UPDATE jobs SET state = 'failed', lease_until = NULL, updated_at = ?,
		last_error = CASE WHEN last_error = '' THEN 'lease expired' ELSE last_error END
		WHERE id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_until <= ?
		AND attempts >= max_attempts `+db.d.LockSkip+`)`, db.tv(t), db.tv(t))
	return err
}

// claimable selects (and, in PostgreSQL, locks) the ids to claim.
func (db *DB) claimable(ctx context.Context, tx *sql.Tx, t time.Time, kinds []string, limit int) ([]any, error) {
	q := `SELECT id FROM jobs WHERE ((state = 'queued' AND run_at <= ?)
		OR (state = 'running' AND lease_until <= ? AND attempts < max_attempts))`
	args := []any{db.tv(t), db.tv(t)}
	if len(kinds) > 0 {
		q += ` AND kind IN (` + placeholders(len(kinds)) + `)`
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	q += ` ORDER BY run_at, id LIMIT ? ` + db.d.LockSkip
	args = append(args, limit)
	return db.queryIDs(ctx, tx, q, args...)
}

// CompleteJob marks the job done; NotFound when missing.
func (db *DB) CompleteJob(ctx context.Context, id string) error {
	res, err := db.exec(ctx, db.w, `UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = ? WHERE id = ?`,
		db.tv(now()), id)
	return db.fail("meta.CompleteJob", mustAffect(res, err, "job"))
}

// FailJob records errText; the job is queued again for retryAt, or failed
// for good when it has used MaxAttempts. NotFound when missing.
func (db *DB) FailJob(ctx context.Context, id string, errText string, retryAt time.Time) error {
	res, err := db.exec(ctx, db.w, `UPDATE jobs SET last_error = ?, lease_until = NULL, updated_at = ?,
		state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
		run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE ? END
		WHERE id = ?`, errText, db.tv(now()), db.tv(retryAt), id)
	return db.fail("meta.FailJob", mustAffect(res, err, "job"))
}

// FindJob returns the job or a NotFound.
func (db *DB) FindJob(ctx context.Context, id string) (*meta.Job, error) {
	j, err := scanJob(db.queryRow(ctx, db.r, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	return j, db.fail("meta.FindJob", notFoundIfNoRows(err, "job"))
}

func (db *DB) queryJobs(ctx context.Context, q querier, query string, args ...any) ([]meta.Job, error) {
	return queryAll(ctx, db, q, scanJob, query, args...)
}
