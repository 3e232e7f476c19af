// Package s3stage is a staging.Store over any S3-compatible object store
// (AWS S3, MinIO, ...), through minio-go, so that every replica behind a
// load balancer sees the same unfinished tus uploads.
//
// An upload with id ID is a handful of objects under the configured prefix:
//
//	ID.info        the record (staging.Upload as JSON), replaced by Update
//	ID.state       the committed layout (JSON): offset, completed object
//	               size, open multipart upload and its committed parts, tail
//	ID.bin         the bytes as an S3 object once a multipart upload is
//	               completed (Open), or the destination of the open one
//	ID.part.OFF    the tail: committed bytes past the last committed part,
//	               shorter than a part, for the commit at offset OFF
//
// Bytes travel as a multipart upload of ID.bin in parts of PartSize (the
// S3 minimum is 5 MiB for all parts but the last). A writer keeps at most
// one part in memory while filling it, plus the parts being uploaded
// (Concurrency of them) and the last one sent, so memory per writer is
// bounded by (Concurrency+2) × PartSize whatever the upload's length. Told
// how many bytes are coming (staging.Expecter; tus passes a PATCH's
// Content-Length), a writer streams each part that they will fill while
// its bytes arrive, so that receiving and sending overlap. Commit waits for
// the parts it covers, writes the bytes past the last part as a new tail
// object and then ID.state; that one PUT is the commit point, so a crash
// anywhere leaves the previous commit readable. Tails are named
// by offset so that a commit never overwrites the tail the previous commit
// refers to. Parts uploaded past the last commit are not in ID.state and
// are overwritten by the next writer or dropped when the upload completes.
//
// S3 cannot read parts of an unfinished multipart upload, so Open (and the
// writer's OpenWritten) first completes it into ID.bin ("sealing", recorded
// in ID.state before and after so that a crash in between is finished by
// the next reader or writer). Committed bytes never change, so a later
// ID.bin always begins with the bytes of an earlier one. When more bytes
// follow a sealed object, the next multipart upload starts with
// server-side copies of it (UploadPartCopy); Concat likewise copies each
// part's object and reads only pieces shorter than 5 MiB through memory.
//
// Bodies are sent unsigned with a CRC32C that S3 verifies (checksum.go).
//
// An unreachable or failing S3 gives *imgmgr.Error of KindUnavailable with
// a RetryAfter; a missing upload KindNotFound; an offset mismatch or an
// existing id KindConflict.
package s3stage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgmgr/imgmgr/upload/staging"
)

// S3 limits on multipart uploads.
const (
	minPartSize = 5 << 20 // every part but the last
	maxCopySize = 5 << 30 // one UploadPartCopy
	maxParts    = 10000
)

// Config locates the bucket and sizes the parts. Zero fields take the
// defaults.
type Config struct {
	Endpoint  string // host:port; required
	Bucket    string // required; must exist
	Region    string
	AccessKey string
	SecretKey string
	UseTLS    bool
	// Prefix is prepended to every object name. Default "staging/".
	Prefix string
	// PartSize is the size of the parts a writer sends, in bytes: the
	// memory a writer fills before sending, and the largest tail a commit
	// rewrites. 5 MiB to 64 MiB; default 8 MiB. An upload has at most
	// 10000 parts, so the largest upload is 10000 × PartSize.
	PartSize int64
	// Concurrency is how many parts one writer uploads at once while it
	// fills the next. Default 2.
	Concurrency int
	// RequestTimeout bounds one S3 request. Default 2m.
	RequestTimeout time.Duration
	// MaxRetries is how often minio-go retries a failed request. Default 3.
	MaxRetries int
	// RetryAfter is what clients are told to wait when S3 fails. Default 5s.
	RetryAfter time.Duration
	// AbandonAfter is how old a multipart upload or object of no live upload
	// must be before SweepAbandoned removes it (a writer records a new
	// multipart upload right after starting it). Default 1h.
	AbandonAfter time.Duration
}

func (c *Config) setDefaults() {
	if c.Prefix == "" {
		c.Prefix = "staging/"
	}
	if c.PartSize == 0 {
		c.PartSize = 8 << 20
	}
	if c.Concurrency == 0 {
		c.Concurrency = 2
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 2 * time.Minute
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 3
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = 5 * time.Second
	}
	if c.AbandonAfter == 0 {
		c.AbandonAfter = time.Hour
	}
}

// Validate checks the config after defaults are applied.
func (c Config) Validate() error {
	c.setDefaults()
	switch {
	case c.Endpoint == "" || c.Bucket == "":
		return errors.New("s3stage: endpoint and bucket are required")
	case c.PartSize < minPartSize || c.PartSize > 64<<20:
		return fmt.Errorf("s3stage: part size %d outside 5 MiB..64 MiB", c.PartSize)
	case c.Concurrency < 1 || c.Concurrency > 16:
		return fmt.Errorf("s3stage: concurrency %d outside 1..16", c.Concurrency)
	case c.RequestTimeout < 0, c.RetryAfter < 0, c.AbandonAfter < 0, c.MaxRetries < 0:
		return errors.New("s3stage: durations and retries must not be negative")
	case strings.HasPrefix(c.Prefix, "/"):
		return errors.New("s3stage: the prefix must not start with /")
	}
	return nil
}

// Store is a staging.Store in one bucket. Safe for concurrent use; callers
// serialise the writers and updates of one upload, as staging.Store says.
type Store struct {
	cfg  Config
	c    minio.Core
	bufs chan []byte // free part buffers, so that a long upload does not churn the heap
}

var (
	_ staging.Store          = (*Store)(nil)
	_ staging.AbandonSweeper = (*Store)(nil)
)

// New connects to the endpoint and checks that the bucket exists.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS, Region: cfg.Region, MaxRetries: cfg.MaxRetries,
		TrailingHeaders: true, // CRC32C trailers of streamed parts (checksum.go)
	})
	if err != nil {
		return nil, fmt.Errorf("s3stage: %w", err)
	}
	s := &Store{cfg: cfg, c: minio.Core{Client: c}, bufs: make(chan []byte, 2*cfg.Concurrency+2)}
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Ping checks the bucket answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.reqCtx(ctx)
	defer cancel()
	ok, err := s.c.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return s.mapErr("s3stage.Ping", err)
	}
	if !ok {
		return fmt.Errorf("s3stage: bucket %q does not exist", s.cfg.Bucket)
	}
	return nil
}

// reqCtx bounds one request. The caller's cancellation is kept: a writer
// passes a context detached from its HTTP request (see NewWriter).
func (s *Store) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.RequestTimeout)
}

// Object names.
func (s *Store) key(id, ext string) string { return s.cfg.Prefix + id + ext }

func (s *Store) tailKey(id string, offset int64) string {
	return fmt.Sprintf("%s%s.part.%d", s.cfg.Prefix, id, offset)
}

// getBuf returns an empty buffer with room for one part.
func (s *Store) getBuf() []byte {
	select {
	case b := <-s.bufs:
		return b[:0]
	default:
		return make([]byte, 0, s.cfg.PartSize)
	}
}

// putBuf gives a part buffer back, or drops it when enough are free.
func (s *Store) putBuf(b []byte) {
	if int64(cap(b)) != s.cfg.PartSize {
		return
	}
	select {
	case s.bufs <- b:
	default:
	}
}

// validID keeps ids to the alphabet of staging ids, without '.', so that
// "ID." prefixes the objects of one upload only.
func validID(id string) bool {
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
