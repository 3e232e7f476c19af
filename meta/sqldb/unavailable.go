package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/imgmgr/imgmgr"
)

// RetryAfter is what an Unavailable error tells clients to wait: long
// enough for a restarting database or a failover, short enough that a
// client notices its return soon.
const RetryAfter = 5 * time.Second

// Unavailable is the error of a database that cannot serve now: 503 with
// Retry-After and code database_unavailable (issue 10, item 3: these were
// 500 internal). err stays the cause, for the logs.
func Unavailable(op string, err error) error {
	return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "database_unavailable", Op: op,
		Message: "the database is unavailable; try again shortly", RetryAfter: RetryAfter, Err: err}
}

// unavailable recognises the failures that every driver shares and that
// say nothing about the query: the pool is closed, a connection went bad,
// the server could not be reached or answered too late, or the connection
// was refused, reset or cut mid-answer.
func unavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	case errors.As(err, new(*net.OpError)): // dial, read or write on the connection failed
		return true
	}
	// database/sql does not export its "database is closed" error.
	return strings.Contains(err.Error(), "sql: database is closed")
}
