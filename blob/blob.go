// Package blob is the contract of the byte stores that hold originals and
// rendered variants. Implementations: localfs (a directory) and, later, s3.
// Every implementation must pass the conformance suite in blobtest.
package blob

import (
	"context"
	"io"
	"regexp"
	"time"

	"github.com/imgmgr/imgmgr"
)

// Info describes a stored blob.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Store holds immutable blobs under keys. Keys are chosen by callers
// (content addresses such as "orig/<sha256>"), match ValidKey, and a key's
// bytes never change once written. All methods are safe for concurrent use.
type Store interface {
	// Put stores r's bytes under key. The blob becomes visible whole or not
	// at all: a failed or cancelled Put leaves nothing behind. Putting an
	// existing key replaces it atomically (same content by convention).
	Put(ctx context.Context, key string, r io.Reader) (Info, error)
	// Get returns a reader of length bytes from offset (length < 0: to the
	// end). The caller closes it. A missing key gives a KindNotFound error.
	Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Stat describes key; a missing key gives a KindNotFound error.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes key. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// Ping checks that the store answers (for readiness).
	Ping(ctx context.Context) error
}

var keyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9._-]*)*$`)

// ValidKey reports whether key is a well-formed blob key: lower-case
// segments of [a-z0-9._-] separated by "/", no "..", no leading dot.
func ValidKey(key string) bool {
	return len(key) <= 512 && keyRE.MatchString(key)
}

// CheckKey returns a KindInvalid error for a malformed key.
func CheckKey(op, key string) error {
	if !ValidKey(key) {
		return &imgmgr.Error{Kind: imgmgr.KindInvalid, Code: "invalid_key", Op: op, Message: "malformed blob key"}
	}
	return nil
}

// OriginalKey is the key of an original with the given SHA-256 (hex).
func OriginalKey(sha256hex string) string { return "orig/" + sha256hex }

// VariantKey is the key of a rendered variant with the given cache key (hex).
func VariantKey(cacheKey string) string { return "var/" + cacheKey }
