// Package s3 is a blob.Store over any S3-compatible object store (AWS S3,
// MinIO, Alibaba OSS, Cloudflare R2), through minio-go. Keys map to object
// names as they are; a Put is one streaming upload (multipart for large
// bodies), so an object becomes visible whole or not at all.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
)

// Config locates the bucket.
type Config struct {
	Endpoint  string // host:port
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	UseTLS    bool
	Prefix    string // prepended to every key, e.g. "imgmgr/"; may be empty
	// PartSize is the multipart chunk for uploads of unknown size; default
	// 16 MiB (memory per concurrent Put).
	PartSize uint64
}

// Validate checks the config.
func (c Config) Validate() error {
	if c.Endpoint == "" || c.Bucket == "" {
		return errors.New("s3: endpoint and bucket are required")
	}
	return nil
}

// Store is a blob.Store in one bucket.
type Store struct {
	cfg Config
	c   *minio.Client
}

var (
	_ blob.Store  = (*Store)(nil)
	_ blob.Copier = (*Store)(nil)
)

// New connects to the endpoint and checks that the bucket exists.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 16 << 20
	}
	c, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:  credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure: cfg.UseTLS, Region: cfg.Region,
		// With trailing headers minio-go sends every part's CRC32C, which
		// S3 checks; see Put.
		TrailingHeaders: true,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	s := &Store{cfg: cfg, c: c}
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) name(key string) string { return s.cfg.Prefix + key }

// Put implements blob.Store. The payload is not signed with SHA-256 (over
// plain HTTP that costs both ends more CPU than the transfer itself);
// each part carries its CRC32C instead, which S3 verifies, so a body
// damaged on the way is refused all the same.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (blob.Info, error) {
	const op = "s3.Put"
	if err := blob.CheckKey(op, key); err != nil {
		return blob.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, imgmgr.Wrap(op, err)
	}
	info, err := s.c.PutObject(ctx, s.cfg.Bucket, s.name(key), r, -1, minio.PutObjectOptions{
		PartSize: s.cfg.PartSize, ContentType: "application/octet-stream",
		DisableContentSha256: true, Checksum: minio.ChecksumCRC32C,
	})
	if err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	return blob.Info{Key: key, Size: info.Size, ModTime: info.LastModified}, nil
}

// Copy implements blob.Copier: one server-side composition of srcs, each
// copied only while it has its ETag, so the blob is exactly the bytes the
// caller read. The caller holds key's lock (blob.KeyLocker), as for Put.
// Sources must be in this store's endpoint (a bucket there
// that these credentials may read); others are refused before any request.
func (s *Store) Copy(ctx context.Context, key string, srcs []blob.Object) (blob.Info, error) {
	const op = "s3.Copy"
	if err := blob.CheckKey(op, key); err != nil {
		return blob.Info{}, err
	}
	if len(srcs) == 0 {
		return blob.Info{}, imgmgr.Internal(op, errors.New("no source objects"))
	}
	opts := make([]minio.CopySrcOptions, len(srcs))
	var size int64
	for i, o := range srcs {
		if o.Endpoint != s.cfg.Endpoint || o.ETag == "" {
			return blob.Info{}, imgmgr.Internal(op, fmt.Errorf("source %s/%s at %s with ETag %q: %w", o.Bucket, o.Key, o.Endpoint, o.ETag, blob.ErrNotCopyable))
		}
		opts[i] = minio.CopySrcOptions{Bucket: o.Bucket, Object: o.Key, MatchETag: o.ETag}
		size += o.Size
	}
	info, err := s.c.ComposeObject(ctx, minio.CopyDestOptions{Bucket: s.cfg.Bucket, Object: s.name(key),
		ReplaceMetadata: true, ContentType: "application/octet-stream"}, opts...)
	if err != nil {
		// A refused part copy leaves the composing multipart upload; the
		// caller holds the key's lock, so no other upload of it is live.
		s.c.RemoveIncompleteUpload(context.WithoutCancel(ctx), s.cfg.Bucket, s.name(key))
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	if info.Size != size {
		s.Delete(ctx, key)
		return blob.Info{}, imgmgr.Internal(op, fmt.Errorf("composed %d bytes, want %d", info.Size, size))
	}
	return blob.Info{Key: key, Size: info.Size, ModTime: info.LastModified}, nil
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	const op = "s3.Get"
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset > info.Size {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_range", "offset %d outside blob of %d bytes", offset, info.Size)
	}
	if length < 0 || offset+length > info.Size {
		length = info.Size - offset
	}
	if length == 0 {
		return io.NopCloser(eofReader{}), nil
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(offset, offset+length-1); err != nil {
		return nil, imgmgr.Internal(op, err)
	}
	obj, err := s.c.GetObject(ctx, s.cfg.Bucket, s.name(key), opts)
	if err != nil {
		return nil, s.mapErr(op, err)
	}
	return obj, nil
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	const op = "s3.Stat"
	if err := blob.CheckKey(op, key); err != nil {
		return blob.Info{}, err
	}
	st, err := s.c.StatObject(ctx, s.cfg.Bucket, s.name(key), minio.StatObjectOptions{})
	if err != nil {
		return blob.Info{}, s.mapErr(op, err)
	}
	return blob.Info{Key: key, Size: st.Size, ModTime: st.LastModified}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	const op = "s3.Delete"
	if err := blob.CheckKey(op, key); err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.cfg.Bucket, s.name(key), minio.RemoveObjectOptions{}); err != nil {
		if e := s.mapErr(op, err); imgmgr.IsNotFound(e) {
			return nil
		}
		return imgmgr.Internal(op, err)
	}
	return nil
}

// Ping checks the bucket answers.
func (s *Store) Ping(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		return imgmgr.Internal("s3.Ping", err)
	}
	if !ok {
		return imgmgr.Internal("s3.Ping", fmt.Errorf("bucket %q does not exist", s.cfg.Bucket))
	}
	return nil
}

func (s *Store) mapErr(op string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NotFound":
		return &imgmgr.Error{Kind: imgmgr.KindNotFound, Code: "not_found", Op: op, Message: "blob not found"}
	}
	return imgmgr.Internal(op, err)
}
