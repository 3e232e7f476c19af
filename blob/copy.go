package blob

import (
	"context"
	"errors"
)

// ErrNotCopyable is what a Copier's error wraps when it cannot copy the
// sources at all (they are in another service): storing the bytes is the
// normal way then, not a failure worth a log line.
var ErrNotCopyable = errors.New("blob: the sources are not in this store's service")

// Object names an object of an S3-compatible service exactly: the bytes
// of Key in Bucket at Endpoint (host:port) while its ETag is ETag, Size
// bytes in all.
type Object struct {
	Endpoint string
	Bucket   string
	Key      string
	ETag     string
	Size     int64
}

// Copier is the optional ability of a store to make a blob from objects
// of the service it lives in without the bytes passing through the
// caller: a server-side copy of srcs, concatenated in order. It fails,
// leaving nothing behind, when a source is in another service, is missing
// or no longer has its ETag; the caller then stores the bytes with Put.
// Safe for concurrent use.
type Copier interface {
	Copy(ctx context.Context, key string, srcs []Object) (Info, error)
}

// ObjectReader is the optional ability of a reader whose bytes are whole
// objects of an S3-compatible service, read in order. After the reader has
// returned io.EOF, Objects reports them; ok is false when some bytes came
// from elsewhere or an object was read only in part, or before io.EOF.
type ObjectReader interface {
	Objects() (objs []Object, ok bool)
}
