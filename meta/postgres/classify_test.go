package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/imgmgr/imgmgr/meta/sqldb"
)

// The SQLSTATEs of a server that cannot serve now are Unavailable; those
// of a bad query are not (issue 10, item 3).
func TestClassifySQLStates(t *testing.T) {
	cases := map[string]sqldb.ErrorClass{
		"23505": sqldb.ErrUnique, "23503": sqldb.ErrForeignKey,
		"57P01": sqldb.ErrUnavailable, // admin_shutdown (pg_terminate_backend, fast shutdown)
		"57P02": sqldb.ErrUnavailable, // crash_shutdown
		"57P03": sqldb.ErrUnavailable, // cannot_connect_now (starting up, shutting down)
		"53300": sqldb.ErrUnavailable, // too_many_connections
		"53100": sqldb.ErrUnavailable, // disk_full
		"08006": sqldb.ErrUnavailable, // connection_failure
		"57014": sqldb.ErrUnavailable, // query_canceled (statement_timeout)
		"42P01": sqldb.ErrOther,       // undefined_table: a bug, not an outage
		"22P02": sqldb.ErrOther,       // invalid_text_representation
	}
	for code, want := range cases {
		err := fmt.Errorf("query: %w", &pgconn.PgError{Code: code})
		if got := classify(err); got != want {
			t.Errorf("SQLSTATE %s: class %d, want %d", code, got, want)
		}
	}
	if got := classify(errors.New("something else")); got != sqldb.ErrOther {
		t.Errorf("a plain error: class %d", got)
	}
}
