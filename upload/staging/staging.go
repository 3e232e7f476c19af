// Package staging keeps the bytes and state of unfinished resumable uploads
// until they are complete and handed to ingest.
//
// The contract is small on purpose so that a remote implementation (S3
// multipart: one part per commit) can follow the local one: an upload is an
// Upload record plus bytes appended at its committed offset through a
// Writer. A committed offset is durable: after a crash, Get reports the last
// committed offset and the bytes before it are exactly those written.
package staging

import (
	"context"
	"io"
	"os"
	"time"
)

// Concat says whether an upload is a plain one, a part of a later final
// upload, or a final upload made by concatenating parts (tus concatenation).
type Concat string

const (
	ConcatNone    Concat = ""
	ConcatPartial Concat = "partial"
	ConcatFinal   Concat = "final"
)

// State is where an upload is in its life.
type State string

const (
	StateActive    State = ""          // receiving bytes
	StateCompleted State = "completed" // ingested: ImageID is set, bytes are gone
	StateExpired   State = "expired"   // expired: bytes are gone, the record answers 410
)

// Upload is the record of one upload. Length is -1 while deferred.
// Offset is the committed offset; Store.Update ignores changes to it.
type Upload struct {
	ID        string    `json:"id"`
	OwnerID   string    `json:"owner_id"`
	Length    int64     `json:"length"`
	Offset    int64     `json:"-"`
	Metadata  string    `json:"metadata,omitempty"` // the client's Upload-Metadata, validated, echoed on HEAD
	Concat    Concat    `json:"concat,omitempty"`
	Parts     []string  `json:"parts,omitempty"` // ids of the partial uploads of a final upload, in order
	State     State     `json:"state,omitempty"`
	ImageID   string    `json:"image_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Done reports whether every byte of u has been committed.
func (u *Upload) Done() bool { return u.Length >= 0 && u.Offset == u.Length }

// Store keeps uploads. Implementations are safe for concurrent use, but
// callers serialise writers and updates of one upload (tus holds a lock per
// upload); the store does not arbitrate two writers of the same upload.
//
// Errors are *imgmgr.Error: KindNotFound for a missing upload, KindConflict
// for an existing id or a writer opened at an offset other than the
// committed one; anything else is internal.
type Store interface {
	// Create records a new upload with no bytes (Offset 0).
	Create(ctx context.Context, u Upload) error
	// Get returns the upload with its committed offset.
	Get(ctx context.Context, id string) (Upload, error)
	// Update applies fn to the record and saves it durably. fn's changes to
	// ID and Offset are ignored; an error from fn is returned unchanged.
	Update(ctx context.Context, id string, fn func(*Upload) error) (Upload, error)
	// NewWriter opens the upload for appending at offset, which must be the
	// committed offset. Bytes written past the last Commit are dropped by
	// Close. The caller closes the writer.
	NewWriter(ctx context.Context, id string, offset int64) (Writer, error)
	// Concat fills the empty upload id with the committed bytes of parts, in
	// order, and commits the sum of their lengths.
	Concat(ctx context.Context, id string, parts []string) error
	// Open returns a reader of the committed bytes; the caller closes it.
	Open(ctx context.Context, id string) (io.ReadCloser, error)
	// DeleteData frees the bytes of an upload and keeps its record.
	DeleteData(ctx context.Context, id string) error
	// Delete removes the upload entirely. Deleting a missing upload is not
	// an error.
	Delete(ctx context.Context, id string) error
	// List calls fn for every upload (in no particular order) until fn
	// returns an error, which List returns.
	List(ctx context.Context, fn func(Upload) error) error
}

// Writer appends bytes to an upload from the offset it was opened at.
// Not safe for concurrent use.
type Writer interface {
	io.Writer
	// Offset is the offset after the bytes written so far.
	Offset() int64
	// Committed is the offset of the last commit.
	Committed() int64
	// Commit makes the bytes up to offset durable and acknowledges them: a
	// later Get reports offset. offset must lie between the last commit and
	// Offset(). Writing may go on after a commit.
	Commit(offset int64) error
	// Close drops bytes written past the last commit and releases the writer.
	Close() error
}

// LocalFiler is the optional ability of a store whose committed bytes are
// a local file: File returns it opened read-only (the caller closes it).
// Without it, a caller that needs a file copies Open's reader to one.
type LocalFiler interface {
	File(ctx context.Context, id string) (*os.File, error)
}

// WrittenOpener is the optional ability of a Writer to read back every byte
// it holds: the committed bytes and those written since, up to Offset().
// A store whose committed bytes are not a local file offers it, so that a
// caller can read a complete upload whose last bytes it has not committed.
// The writer takes nothing but Close afterwards, and the caller closes the
// reader before the writer.
type WrittenOpener interface {
	OpenWritten(ctx context.Context) (io.ReadCloser, error)
}

// Expecter is the optional ability of a Writer to be told that n more
// bytes are coming (a request's Content-Length), so that it can send what
// they will fill before they have all arrived. Writing fewer is allowed.
type Expecter interface {
	Expect(n int64)
}

// AbandonSweeper is the optional ability of a store to free what uploads
// left outside their records: a remote store's unfinished multipart
// uploads and the objects of uploads whose record is gone or expired. The
// tus sweeper calls it on every sweep, with the current time; it returns
// how many things it freed. Safe for concurrent use.
type AbandonSweeper interface {
	SweepAbandoned(ctx context.Context, now time.Time) (int, error)
}

// ValidID reports whether id is a staging id: 1 to 64 characters of
// [A-Za-z0-9_-], so that it can name files and object keys as it is (no
// '.', no '/': "ID." prefixes one upload's names only).
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
