// Package sqlite is the embedded meta.Store: one SQLite file through the
// pure-Go driver modernc.org/sqlite. The SQL lives in meta/sqldb; this
// package opens the database and says how SQLite differs.
//
// The database runs in WAL mode with foreign keys on. All writes go through
// a pool of one connection whose transactions begin IMMEDIATE, so writers
// queue in Go rather than failing with SQLITE_BUSY; reads use a separate
// read-only pool and never wait for writers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"io/fs"
	"net/url"
	"runtime"
	"strconv"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a meta.Store on a SQLite file.
type Store struct {
	*sqldb.DB
}

var _ meta.Store = (*Store)(nil)

// DefaultBusyTimeout is how long a connection waits for a lock held by
// another process (this process's writers already queue on the writer
// pool) unless Options say otherwise.
const DefaultBusyTimeout = 10 * time.Second

// Options tune Open. Zero fields take defaults.
type Options struct {
	// BusyTimeout is how long a statement waits for a lock another process
	// holds before it fails; the failure is Unavailable (503 with
	// Retry-After). Default DefaultBusyTimeout.
	BusyTimeout time.Duration
}

// Open opens (creating if needed) the database file at path and migrates
// its schema, with default Options.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with Options.
func OpenWith(ctx context.Context, path string, o Options) (*Store, error) {
	const op = "sqlite.Open"
	if path == "" {
		return nil, imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_config", "database path is empty"))
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = DefaultBusyTimeout
	}
	w, err := openPool(path, o, url.Values{
		"_txlock": {"immediate"},
		"_pragma": {"journal_mode(WAL)", "synchronous(NORMAL)"},
	}, 1)
	if err != nil {
		return nil, imgmgr.Internal(op, err)
	}
	// The writer connection switches the file to WAL before readers open it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, imgmgr.Internal(op, err)
	}
	r, err := openPool(path, o, url.Values{"_query_only": {"1"}}, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		w.Close()
		return nil, imgmgr.Internal(op, err)
	}
	db, err := sqldb.New(ctx, w, r, Dialect())
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	return &Store{DB: db}, nil
}

func openPool(path string, o Options, extra url.Values, conns int) (*sql.DB, error) {
	q := url.Values{
		"_pragma": {
			"busy_timeout(" + strconv.Itoa(int(o.BusyTimeout/time.Millisecond)) + ")",
			"foreign_keys(1)",
		},
	}
	for k, v := range extra {
		q[k] = append(q[k], v...)
	}
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// Dialect describes SQLite to the shared SQL core.
func Dialect() sqldb.Dialect {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory is fixed at build time
	}
	return sqldb.Dialect{
		Name:       "sqlite",
		ILike:      "LIKE", // SQLite's LIKE ignores ASCII case
		EncodeTime: func(t time.Time) any { return t.Format(sqldb.TimeText) },
		Day:        "substr(%s, 1, 10)",
		Classify:   classify,
		Migrations: sub,
	}
}

func classify(err error) sqldb.ErrorClass {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return sqldb.ErrOther
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return sqldb.ErrUnique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqldb.ErrForeignKey
	}
	// Busy past busy_timeout (another process holds the lock) or locked
	// within a shared cache, in every extended form (SQLITE_BUSY_SNAPSHOT,
	// ...): the database cannot serve now, which is a 503, not a 500.
	switch e.Code() & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return sqldb.ErrUnavailable
	}
	return sqldb.ErrOther
}
