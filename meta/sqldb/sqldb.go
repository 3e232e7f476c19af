// Package sqldb is the SQL core shared by the meta backends (sqlite and
// postgres): every query of the meta.Store contract is written here once, in
// a dialect-neutral SQL, and a small Dialect says what differs (placeholders,
// case-insensitive LIKE, row locking, time encoding, error classes,
// migrations).
//
// Queries are written with "?" placeholders; postgres rebinds them to $n.
// Times are stored in UTC truncated to the microsecond, so a value written
// and read back compares equal. IDs are UUIDv7 strings, which sort by
// creation.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/imgmgr/imgmgr"
)

// ErrorClass is what a dialect recognises in a driver error.
type ErrorClass int

const (
	ErrOther       ErrorClass = iota
	ErrUnique                 // unique or primary key violation
	ErrForeignKey             // foreign key violation
	ErrUnavailable            // the database cannot be reached or cannot serve now (retry later)
)

// Dialect is what differs between the SQL databases.
type Dialect struct {
	Name string
	// Numbered placeholders ($1, $2, ...) instead of "?".
	Numbered bool
	// ILike is the case-insensitive LIKE operator ("LIKE" in SQLite,
	// "ILIKE" in PostgreSQL).
	ILike string
	// LockSkip is appended to a SELECT to lock its rows and skip rows that
	// other transactions hold ("FOR UPDATE SKIP LOCKED"); "" when the
	// database serialises writers anyway (SQLite).
	LockSkip string
	// EncodeTime turns a UTC, microsecond-truncated time into a value the
	// driver stores so that stored values sort chronologically.
	EncodeTime func(time.Time) any
	// Day is an SQL expression of the UTC day ("YYYY-MM-DD") of the time
	// column it is given, e.g. "substr(%s, 1, 10)".
	Day string
	// Classify recognises constraint violations and the dialect's own
	// signs of an unavailable database (SQLSTATEs, busy codes) in driver
	// errors; the network and pool failures every driver shares are
	// recognised by the core (see unavailable).
	Classify func(error) ErrorClass
	// Migrations holds the files NNNN_name.sql (at its root), applied in
	// order, each once.
	Migrations fs.FS
	// MigrationLock, when set, is run first in the migration transaction to
	// keep concurrent migrators apart.
	MigrationLock string
}

// DB implements meta.Store on top of database/sql.
//
// Writes go through w, reads through r (the same pool for PostgreSQL;
// for SQLite a single-connection writer pool and a reader pool, so that
// writers queue in Go instead of failing with SQLITE_BUSY).
type DB struct {
	w, r *sql.DB
	d    Dialect
}

// New returns a DB over the writer and reader pools and migrates the
// schema. r may equal w. Close closes both pools.
func New(ctx context.Context, w, r *sql.DB, d Dialect) (*DB, error) {
	db := &DB{w: w, r: r, d: d}
	if err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	return db, nil
}

// Ping checks the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.r.PingContext(ctx); err != nil {
		return Unavailable("meta.Ping", err)
	}
	return nil
}

// Close closes the pools.
func (db *DB) Close() error {
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// rebind turns "?" placeholders into the dialect's form.
func (db *DB) rebind(q string) string {
	if !db.d.Numbered {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

func (db *DB) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, db.rebind(query), args...)
}

func (db *DB) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	return q.QueryContext(ctx, db.rebind(query), args...)
}

func (db *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, db.rebind(query), args...)
}

// inTx runs fn in a write transaction, committing when fn returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// fail turns err into the *imgmgr.Error that a method returns: errors
// that already are *imgmgr.Error keep their kind, constraint violations
// become Conflict or Invalid, an unreachable or overloaded database is
// Unavailable (503 with Retry-After, code database_unavailable), anything
// else is internal.
func (db *DB) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *imgmgr.Error
	if errors.As(err, &e) {
		return imgmgr.Wrap(op, err)
	}
	switch db.d.Classify(err) {
	case ErrUnique:
		return &imgmgr.Error{Kind: imgmgr.KindConflict, Code: "conflict", Op: op, Message: "already exists", Err: err}
	case ErrForeignKey:
		return &imgmgr.Error{Kind: imgmgr.KindInvalid, Code: "invalid_reference", Op: op, Message: "refers to a missing row", Err: err}
	case ErrUnavailable:
		return Unavailable(op, err)
	}
	if unavailable(err) {
		return Unavailable(op, err)
	}
	return imgmgr.Internal(op, err)
}

// conflictOr returns a Conflict with code and message when err is a unique
// violation, and err otherwise.
func (db *DB) conflictOr(err error, code, format string, args ...any) error {
	if err != nil && db.d.Classify(err) == ErrUnique {
		e := imgmgr.Errorf(imgmgr.KindConflict, code, format, args...)
		e.Err = err
		return e
	}
	return err
}

// newID returns a new UUIDv7.
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// norm is the form every stored time takes: UTC, microsecond precision.
func norm(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// now is the current time in stored form.
func now() time.Time { return norm(time.Now()) }

// tv encodes a time for a query argument.
func (db *DB) tv(t time.Time) any { return db.d.EncodeTime(norm(t)) }

// tpv encodes a nullable time.
func (db *DB) tpv(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return db.tv(*t)
}

// tzv encodes a time whose zero value is stored as NULL.
func (db *DB) tzv(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.tv(t)
}

// normp normalises a nullable time in place.
func normp(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	n := norm(*t)
	return &n
}

// TimeText is the fixed-width text form of stored times for dialects
// that keep times as text: it sorts chronologically.
const TimeText = "2006-01-02T15:04:05.000000Z07:00"

// timeScan scans a stored time (a time.Time or its text form); NULL gives
// the zero time.
type timeScan struct{ t *time.Time }

func (s timeScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*s.t = time.Time{}
		return nil
	case time.Time:
		*s.t = norm(v)
		return nil
	case string:
		return s.parse(v)
	case []byte:
		return s.parse(string(v))
	}
	return fmt.Errorf("sqldb: cannot scan %T into a time", src)
}

func (s timeScan) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return err
	}
	*s.t = norm(t)
	return nil
}

// nullTimeScan scans a nullable time into a *time.Time.
type nullTimeScan struct{ t **time.Time }

func (s nullTimeScan) Scan(src any) error {
	if src == nil {
		*s.t = nil
		return nil
	}
	var t time.Time
	if err := (timeScan{&t}).Scan(src); err != nil {
		return err
	}
	*s.t = &t
	return nil
}

// scanner is what *sql.Row and *sql.Rows share.
type scanner interface{ Scan(dest ...any) error }

// queryIDs runs a query of one id column and returns the ids (as args for
// a following IN (...)).
func (db *DB) queryIDs(ctx context.Context, q querier, query string, args ...any) ([]any, error) {
	ids, err := queryAll(ctx, db, q, func(sc scanner) (*any, error) {
		var id string
		err := sc.Scan(&id)
		var v any = id
		return &v, err
	}, query, args...)
	return ids, err
}

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, db *DB, q querier, scan func(scanner) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := db.query(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// placeholders returns "?, ?, ..." for n arguments.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// notFoundIfNoRows maps sql.ErrNoRows to a NotFound naming what.
func notFoundIfNoRows(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return imgmgr.ErrNotFound(what)
	}
	return err
}

// mustAffect returns a NotFound naming what when res changed no row.
func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return imgmgr.ErrNotFound(what)
	}
	return nil
}
