// Package postgres is the meta.Store for scaled-out deployments: PostgreSQL
// through pgx v5's database/sql driver. The SQL lives in meta/sqldb; this
// package opens the pool and says how PostgreSQL differs.
//
// Tables live in the connection's search_path (a URL parameter such as
// ?search_path=imgmgr selects a schema). Job claiming locks rows with FOR
// UPDATE SKIP LOCKED; migrations are serialised with an advisory lock.
package postgres

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a meta.Store on PostgreSQL.
type Store struct {
	*sqldb.DB
}

var _ meta.Store = (*Store)(nil)

// Open connects to the database at url (postgres://...), checks that it
// answers and migrates the schema.
func Open(ctx context.Context, url string) (*Store, error) {
	const op = "postgres.Open"
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, &imgmgr.Error{Kind: imgmgr.KindInvalid, Code: "invalid_config", Op: op,
			Message: "database.url is not a valid PostgreSQL URL", Err: err}
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(5)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "database_unavailable", Op: op, Err: err}
	}
	core, err := sqldb.New(ctx, db, db, Dialect())
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{DB: core}, nil
}

// Dialect describes PostgreSQL to the shared SQL core.
func Dialect() sqldb.Dialect {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sqldb.Dialect{
		Name:       "postgres",
		Numbered:   true,
		ILike:      "ILIKE",
		LockSkip:   "FOR UPDATE SKIP LOCKED",
		EncodeTime: func(t time.Time) any { return t },
		Day:        "to_char(%s AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
		Classify:   classify,
		Migrations: sub,
		// One migrator per schema at a time.
		MigrationLock: `SELECT pg_advisory_xact_lock(hashtext('imgmgr.migrate.' || current_schema()))`,
	}
}

func classify(err error) sqldb.ErrorClass {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		if connectionLost(err) {
			return sqldb.ErrUnavailable
		}
		return sqldb.ErrOther
	}
	switch {
	case e.Code == "23505": // unique_violation
		return sqldb.ErrUnique
	case e.Code == "23503": // foreign_key_violation
		return sqldb.ErrForeignKey
	case unavailableCode(e.Code):
		return sqldb.ErrUnavailable
	}
	if connectionLost(err) { // e.g. a connect refused with 55000 "not currently accepting connections"
		return sqldb.ErrUnavailable
	}
	return sqldb.ErrOther
}

// unavailableCode reports the SQLSTATEs of a server that cannot serve now
// rather than of a bad query: connection exceptions (class 08),
// insufficient resources (class 53: too many connections 53300, out of
// memory, disk full), operator intervention (57P01 admin shutdown, 57P02
// crash shutdown, 57P03 cannot connect now, 57P04 database dropped, 57P05
// idle session timeout) and query_canceled 57014 (statement timeout).
func unavailableCode(code string) bool {
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") ||
		strings.HasPrefix(code, "57P") || code == "57014"
}

// connectionLost recognises pgx's own errors for a connection that could
// not be made or broke: a failed connect, a closed connection, a timeout.
func connectionLost(err error) bool {
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.Timeout(err) || strings.Contains(err.Error(), "conn closed")
}
