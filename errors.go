// Package imgmgr holds the domain vocabulary of the image platform: images,
// users, principals, events and the one error type that every layer returns.
// It imports only the standard library.
package imgmgr

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// Kind classifies an error. httpapi alone maps a Kind to an HTTP status.
type Kind uint8

// The kinds of error. The comment is the HTTP status httpapi gives each.
const (
	KindInternal            Kind = iota // 500
	KindInvalid                         // 400
	KindUnauthenticated                 // 401
	KindPermission                      // 403
	KindNotFound                        // 404
	KindConflict                        // 409
	KindGone                            // 410
	KindPrecondition                    // 412
	KindTooLarge                        // 413
	KindUnsupportedMedia                // 415
	KindUnprocessable                   // 422
	KindLocked                          // 423
	KindRateLimited                     // 429
	KindChecksumMismatch                // 460
	KindUnavailable                     // 503
	KindInsufficientStorage             // 507
)

var kindNames = [...]string{
	KindInternal:            "internal",
	KindInvalid:             "invalid",
	KindUnauthenticated:     "unauthenticated",
	KindPermission:          "permission_denied",
	KindNotFound:            "not_found",
	KindConflict:            "conflict",
	KindGone:                "gone",
	KindPrecondition:        "precondition_failed",
	KindTooLarge:            "too_large",
	KindUnsupportedMedia:    "unsupported_media_type",
	KindUnprocessable:       "unprocessable",
	KindLocked:              "locked",
	KindRateLimited:         "rate_limited",
	KindChecksumMismatch:    "checksum_mismatch",
	KindUnavailable:         "unavailable",
	KindInsufficientStorage: "insufficient_storage",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Error is the project's error type. Code is a stable machine-readable code
// for clients (e.g. "unsupported_media_type", "malware_detected"); Message is
// safe to show to a client; Err is the cause, for logs only.
type Error struct {
	Kind       Kind
	Code       string
	Op         string
	Message    string
	RetryAfter time.Duration // for KindRateLimited, KindUnavailable and KindInsufficientStorage
	Err        error
}

func (e *Error) Error() string {
	s := e.Kind.String()
	if e.Code != "" {
		s = e.Code
	}
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind and code with a client-safe message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	if code == "" {
		code = kind.String()
	}
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns err annotated with op, keeping its kind. A nil err gives nil.
// An err that is not an *Error becomes an internal error whose cause is err.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Op = op
		c.Err = err
		if e.Err != nil || e.Op != "" {
			return &c
		}
		c.Err = nil
		return &c
	}
	return &Error{Kind: KindInternal, Code: "internal", Op: op, Err: err}
}

// Internal wraps err as an internal error: the client sees "internal error".
func Internal(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: KindInternal, Code: "internal", Op: op, Err: err}
}

// errStorageFull stands for an internal error caused by a full disk or an
// exhausted quota (ENOSPC, EDQUOT) anywhere below: the client is told to
// come back later rather than given a 500.
var errStorageFull = &Error{Kind: KindInsufficientStorage, Code: "insufficient_storage",
	Message: "the server's storage is full; try again later", RetryAfter: time.Minute}

// classify returns the *Error that decides how err is answered: the first
// in its chain, or errStorageFull for an internal error caused by a full
// disk; nil for an error that is internal and nothing more.
func classify(err error) *Error {
	var e *Error
	found := errors.As(err, &e)
	if (!found || e.Kind == KindInternal) && (errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)) {
		return errStorageFull
	}
	if !found {
		return nil
	}
	return e
}

// KindOf returns the kind of the first *Error in err's chain, KindInternal
// for any other non-nil error; an internal error caused by a full disk is
// KindInsufficientStorage.
func KindOf(err error) Kind {
	if e := classify(err); e != nil {
		return e.Kind
	}
	return KindInternal
}

// CodeOf returns the code of the first *Error in err's chain, "internal" otherwise.
func CodeOf(err error) string {
	if e := classify(err); e != nil && e.Code != "" {
		return e.Code
	}
	return "internal"
}

// RetryAfterOf returns when a client may try again after err (0: not said).
func RetryAfterOf(err error) time.Duration {
	if e := classify(err); e != nil {
		return e.RetryAfter
	}
	return 0
}

// IsNotFound reports whether err is of KindNotFound.
func IsNotFound(err error) bool { return err != nil && KindOf(err) == KindNotFound }

// ErrNotFound builds a not-found error naming what was missing.
func ErrNotFound(what string) *Error {
	return Errorf(KindNotFound, "not_found", "%s not found", what)
}

// PublicError returns what a client may see of err: its code and message, or
// "internal" / "internal error" for anything internal.
func PublicError(err error) (code, message string) {
	e := classify(err)
	if e == nil || e.Kind == KindInternal {
		return "internal", "internal error"
	}
	code, message = CodeOf(err), e.Message
	if message == "" {
		message = strings.ReplaceAll(e.Kind.String(), "_", " ")
	}
	return code, message
}
