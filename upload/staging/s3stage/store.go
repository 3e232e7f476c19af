package s3stage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// Create implements staging.Store. Where S3 supports conditional writes
// (AWS, MinIO), two replicas creating the same id cannot both succeed.
func (s *Store) Create(ctx context.Context, u staging.Upload) error {
	const op = "s3stage.Create"
	if !staging.ValidID(u.ID) {
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_upload_id", "invalid upload id")
	}
	exists := imgmgr.Errorf(imgmgr.KindConflict, "upload_exists", "upload %s exists", u.ID)
	if _, err := s.readRecord(ctx, u.ID); err == nil {
		return exists
	} else if !imgmgr.IsNotFound(err) {
		return err
	}
	b, err := json.Marshal(u)
	if err != nil {
		return imgmgr.Internal(op, err)
	}
	opts := putOpts(b, "application/json")
	opts.SetMatchETagExcept("*")
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	_, err = s.c.PutObject(rctx, s.cfg.Bucket, s.key(u.ID, ".info"), bytes.NewReader(b), int64(len(b)), "", "", opts)
	if minio.ToErrorResponse(err).Code == "PreconditionFailed" {
		return exists
	}
	return s.mapErr(op, err)
}

// Get implements staging.Store.
func (s *Store) Get(ctx context.Context, id string) (staging.Upload, error) {
	u, l, err := s.load(ctx, id)
	u.Offset = l.Offset
	return u, err
}

// load reads the record and the layout of id at once (two GETs in
// parallel: each PATCH costs a Get, and a NewWriter reads the layout).
func (s *Store) load(ctx context.Context, id string) (staging.Upload, layout, error) {
	if !staging.ValidID(id) {
		return staging.Upload{}, layout{}, notFound()
	}
	var l layout
	var lerr error
	done := make(chan struct{})
	go func() { defer close(done); l, lerr = s.readLayout(ctx, id) }()
	u, err := s.readRecord(ctx, id)
	<-done
	if err == nil {
		err = lerr
	}
	if err != nil {
		return staging.Upload{}, layout{}, err
	}
	return u, l, nil
}

// Update implements staging.Store.
func (s *Store) Update(ctx context.Context, id string, fn func(*staging.Upload) error) (staging.Upload, error) {
	u, err := s.readRecord(ctx, id)
	if err != nil {
		return staging.Upload{}, err
	}
	if err := fn(&u); err != nil {
		return staging.Upload{}, err
	}
	u.ID = id
	if err := s.putJSON(ctx, "s3stage.Update", s.key(id, ".info"), u); err != nil {
		return staging.Upload{}, err
	}
	l, err := s.readLayout(ctx, id)
	u.Offset = l.Offset
	return u, err
}

// Open implements staging.Store. It completes the multipart upload of the
// committed parts first (S3 cannot read an unfinished one), so it costs one
// CompleteMultipartUpload when parts were committed since the last Open.
// The reader streams ID.bin and the tail; its errors are *imgmgr.Error.
func (s *Store) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	_, l, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if l, err = s.seal(ctx, id, l); err != nil {
		return nil, err
	}
	return s.newReader(ctx, id, l, nil), nil
}

// DeleteData implements staging.Store. It aborts the upload's multipart
// uploads first and removes ID.state before the bytes: a failure half-way
// leaves ID.state, which SweepAbandoned looks for, and a later DeleteData
// or Delete finishes the job.
func (s *Store) DeleteData(ctx context.Context, id string) error {
	if !staging.ValidID(id) {
		return notFound()
	}
	l, err := s.readLayout(ctx, id)
	if err != nil {
		return err
	}
	if l.UploadID != "" {
		if err := s.abort(ctx, id, l.UploadID); err != nil {
			return err
		}
	}
	if _, err := s.abortUploads(ctx, id, func(minio.ObjectMultipartInfo) bool { return true }); err != nil {
		return err
	}
	if err := s.remove(ctx, "s3stage.DeleteData", s.key(id, ".state")); err != nil {
		return err
	}
	return s.removeData(ctx, id)
}

// removeData removes ID.bin and every tail.
func (s *Store) removeData(ctx context.Context, id string) error {
	if err := s.remove(ctx, "s3stage.DeleteData", s.key(id, ".bin")); err != nil {
		return err
	}
	return s.eachObject(ctx, s.key(id, ".part."), func(o minio.ObjectInfo) error {
		return s.remove(ctx, "s3stage.DeleteData", o.Key)
	})
}

// Delete implements staging.Store. The record goes first, so that a
// failure half-way leaves data that SweepAbandoned removes, never a record
// without its committed bytes.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !staging.ValidID(id) {
		return nil
	}
	if err := s.remove(ctx, "s3stage.Delete", s.key(id, ".info")); err != nil {
		return err
	}
	return s.DeleteData(ctx, id)
}

// List implements staging.Store: it lists the ID.info objects under the
// prefix and reads each upload.
func (s *Store) List(ctx context.Context, fn func(staging.Upload) error) error {
	return s.eachObject(ctx, s.cfg.Prefix, func(o minio.ObjectInfo) error {
		id, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, s.cfg.Prefix), ".info")
		if !ok || !staging.ValidID(id) {
			return nil
		}
		u, err := s.Get(ctx, id)
		if imgmgr.IsNotFound(err) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		return fn(u)
	})
}

// eachObject calls fn for the objects whose names begin with prefix, not
// descending past a '/', until fn returns an error.
func (s *Store) eachObject(ctx context.Context, prefix string, fn func(minio.ObjectInfo) error) error {
	ctx, cancel := context.WithCancel(ctx) // stops the listing when fn ends it early
	defer cancel()
	for o := range s.c.Client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if o.Err != nil {
			return s.mapErr("s3stage.List", o.Err)
		}
		if strings.HasSuffix(o.Key, "/") {
			continue
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// abort aborts one multipart upload of id; a missing one is not an error.
func (s *Store) abort(ctx context.Context, id, uploadID string) error {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	err := s.c.AbortMultipartUpload(rctx, s.cfg.Bucket, s.key(id, ".bin"), uploadID)
	if err != nil && !isMissing(err) {
		return s.mapErr("s3stage.abort", err)
	}
	return nil
}

// abortUploads aborts the multipart uploads of ID.bin that doomed accepts
// and returns how many it aborted. It asks S3 for the uploads of that one
// object name, which MinIO supports (it lists no wider prefix).
func (s *Store) abortUploads(ctx context.Context, id string, doomed func(minio.ObjectMultipartInfo) bool) (int, error) {
	key := s.key(id, ".bin")
	var n int
	keyMarker, idMarker := "", ""
	for {
		rctx, cancel := s.reqCtx(ctx)
		res, err := s.c.ListMultipartUploads(rctx, s.cfg.Bucket, key, keyMarker, idMarker, "", 1000)
		cancel()
		if err != nil {
			return n, s.mapErr("s3stage.abortUploads", err)
		}
		for _, up := range res.Uploads {
			if up.Key != key || !doomed(up) {
				continue
			}
			if err := s.abort(ctx, id, up.UploadID); err != nil {
				return n, err
			}
			n++
		}
		if !res.IsTruncated {
			return n, nil
		}
		keyMarker, idMarker = res.NextKeyMarker, res.NextUploadIDMarker
	}
}

var errSealed = errors.New("s3stage: the writer was read back (OpenWritten); only Close is allowed")
