package s3stage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// part is one committed part of the open multipart upload.
type part struct {
	Num  int    `json:"n"`
	Size int64  `json:"size"`
	ETag string `json:"etag"`
}

// layout is ID.state: where the committed bytes [0, Offset) are. With
// parts, the parts hold [0, partsEnd) (the first ones may be server-side
// copies of an earlier ID.bin); without, ID.bin holds [0, Object). The tail
// object of Offset holds the rest, [base, Offset). A missing ID.state is
// the empty layout.
type layout struct {
	Offset   int64  `json:"offset"`
	Object   int64  `json:"object,omitempty"`
	UploadID string `json:"upload_id,omitempty"`
	Parts    []part `json:"parts,omitempty"`
	// Sealing says that completing UploadID into ID.bin was begun; whoever
	// loads such a layout finishes the seal first (see seal).
	Sealing bool `json:"sealing,omitempty"`
}

func (l layout) partsEnd() int64 {
	var n int64
	for _, p := range l.Parts {
		n += p.Size
	}
	return n
}

// base is where the tail begins.
func (l layout) base() int64 {
	if len(l.Parts) > 0 {
		return l.partsEnd()
	}
	return l.Object
}

func (l layout) tailSize() int64 { return l.Offset - l.base() }

var errMissing = errors.New("object missing")

// getJSON reads a small JSON object; errMissing when it does not exist.
func (s *Store) getJSON(ctx context.Context, op, key string, v any) error {
	b, err := s.getSmall(ctx, op, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return imgmgr.Internal(op, fmt.Errorf("%s: %w", key, err))
	}
	return nil
}

// getSmall reads a whole object that is known to be small (a record, a
// layout or a tail, at most one part).
func (s *Store) getSmall(ctx context.Context, op, key string) ([]byte, error) {
	ctx, cancel := s.reqCtx(ctx)
	defer cancel()
	rc, info, _, err := s.c.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if isMissing(err) {
		return nil, errMissing
	}
	if err != nil {
		return nil, s.mapErr(op, err)
	}
	defer rc.Close()
	buf := bytes.NewBuffer(make([]byte, 0, max(info.Size, 0)+bytes.MinRead))
	if _, err := buf.ReadFrom(rc); err != nil {
		return nil, s.mapErr(op, err)
	}
	return buf.Bytes(), nil
}

// putBytes writes a whole object in one PUT: it is visible whole or not at
// all, and durable when the call returns. S3 checks its CRC32C (checksum.go).
func (s *Store) putBytes(ctx context.Context, op, key string, b []byte) error {
	ctx, cancel := s.reqCtx(ctx)
	defer cancel()
	_, err := s.c.PutObject(ctx, s.cfg.Bucket, key, bytes.NewReader(b), int64(len(b)), "", "",
		putOpts(b, "application/octet-stream"))
	return s.mapErr(op, err)
}

func (s *Store) putJSON(ctx context.Context, op, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return imgmgr.Internal(op, err)
	}
	return s.putBytes(ctx, op, key, b)
}

// remove deletes an object; a missing one is not an error.
func (s *Store) remove(ctx context.Context, op, key string) error {
	ctx, cancel := s.reqCtx(ctx)
	defer cancel()
	err := s.c.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{})
	if err != nil && !isMissing(err) {
		return s.mapErr(op, err)
	}
	return nil
}

func (s *Store) readRecord(ctx context.Context, id string) (staging.Upload, error) {
	var u staging.Upload
	if !staging.ValidID(id) {
		return u, notFound()
	}
	err := s.getJSON(ctx, "s3stage.record", s.key(id, ".info"), &u)
	if errors.Is(err, errMissing) {
		return u, notFound()
	}
	return u, err
}

func (s *Store) readLayout(ctx context.Context, id string) (layout, error) {
	var l layout
	err := s.getJSON(ctx, "s3stage.layout", s.key(id, ".state"), &l)
	if errors.Is(err, errMissing) {
		return layout{}, nil
	}
	return l, err
}

func (s *Store) writeLayout(ctx context.Context, id string, l layout) error {
	return s.putJSON(ctx, "s3stage.commit", s.key(id, ".state"), l)
}

// readRange reads n bytes of an object from off, appending them to buf.
func (s *Store) readRange(ctx context.Context, key string, off, n int64, buf []byte) ([]byte, error) {
	const op = "s3stage.readRange"
	if n == 0 {
		return buf, nil
	}
	ctx, cancel := s.reqCtx(ctx)
	defer cancel()
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(off, off+n-1); err != nil {
		return buf, imgmgr.Internal(op, err)
	}
	rc, _, _, err := s.c.GetObject(ctx, s.cfg.Bucket, key, opts)
	if err != nil {
		return buf, s.mapErr(op, fmt.Errorf("%s: %w", key, err))
	}
	defer rc.Close()
	start := len(buf)
	buf = buf[:start+int(n)]
	if _, err := io.ReadFull(rc, buf[start:]); err != nil {
		return buf[:start], s.mapErr(op, fmt.Errorf("%s [%d, %d): %w", key, off, off+n, err))
	}
	return buf, nil
}
