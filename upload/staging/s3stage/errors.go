package s3stage

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
)

func notFound() error { return imgmgr.ErrNotFound("upload") }

// isMissing reports whether S3 answered that the object or multipart
// upload does not exist.
func isMissing(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return true
	}
	return false
}

// mapErr turns an S3 error into an *imgmgr.Error: an S3 that cannot be
// reached, times out or answers 5xx is KindUnavailable with RetryAfter (the
// client may resume later, nothing committed is lost); anything else, such
// as a refused credential, is internal. A missing object is left to the
// callers, which know whether it means "not found" or "empty".
func (s *Store) mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *imgmgr.Error
	if errors.As(err, &e) {
		return imgmgr.Wrap(op, err)
	}
	if transient(err) {
		return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "staging_unavailable", Op: op,
			Message: "upload storage is unavailable; try again shortly", RetryAfter: s.cfg.RetryAfter, Err: err}
	}
	return imgmgr.Internal(op, err)
}

// transient reports whether err is S3 or the network failing for a while.
func transient(err error) bool {
	if resp := minio.ToErrorResponse(err); resp.StatusCode >= 500 || resp.Code == "SlowDown" || resp.Code == "RequestTimeout" {
		return true
	}
	var ne net.Error
	var ue *url.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) || errors.As(err, &ue) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}
