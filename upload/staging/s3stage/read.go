package s3stage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
)

// seal returns id's layout with no open parts: when parts are committed it
// completes the multipart upload into ID.bin. The layout says Sealing
// before the completion and is replaced after it, so that a crash in
// between is finished by the next seal: the upload is then gone, and
// ID.bin of the parts' length is what it became.
func (s *Store) seal(ctx context.Context, id string, l layout) (layout, error) {
	const op = "s3stage.seal"
	if len(l.Parts) == 0 {
		return l, nil
	}
	if !l.Sealing {
		l.Sealing = true
		if err := s.writeLayout(ctx, id, l); err != nil {
			return l, err
		}
	}
	parts := make([]minio.CompletePart, len(l.Parts))
	for i, p := range l.Parts {
		parts[i] = minio.CompletePart{PartNumber: p.Num, ETag: p.ETag}
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	_, err := s.c.CompleteMultipartUpload(rctx, s.cfg.Bucket, s.key(id, ".bin"), l.UploadID, parts, minio.PutObjectOptions{})
	if isMissing(err) {
		err = s.checkSealed(rctx, id, l.partsEnd())
	}
	if err != nil {
		return l, s.mapErr(op, err)
	}
	sealed := layout{Offset: l.Offset, Object: l.partsEnd()}
	return sealed, s.writeLayout(ctx, id, sealed)
}

// checkSealed confirms that ID.bin holds size bytes, after a completion
// whose upload S3 no longer knows.
func (s *Store) checkSealed(ctx context.Context, id string, size int64) error {
	st, err := s.c.StatObject(ctx, s.cfg.Bucket, s.key(id, ".bin"), minio.StatObjectOptions{})
	if err != nil {
		return err
	}
	if st.Size != size {
		return imgmgr.Internal("s3stage.seal", fmt.Errorf("upload %s: its multipart upload is gone and %s has %d bytes, not %d", id, st.Key, st.Size, size))
	}
	return nil
}

// segment is n bytes from the start of an object.
type segment struct {
	key string
	n   int64
}

// newReader streams the committed bytes of a sealed layout, then extra
// (bytes held in memory by a writer).
func (s *Store) newReader(ctx context.Context, id string, l layout, extra [][]byte) io.ReadCloser {
	var segs []segment
	if l.Object > 0 {
		segs = append(segs, segment{s.key(id, ".bin"), l.Object})
	}
	if t := l.tailSize(); t > 0 {
		segs = append(segs, segment{s.tailKey(id, l.Offset), t})
	}
	return &reader{s: s, ctx: ctx, segs: segs, extra: extra}
}

// reader reads its segments one GET at a time, without buffering more than
// a read's worth. Its errors are *imgmgr.Error (KindUnavailable when S3
// fails mid-stream, so that ingest reports a retryable error). It is a
// blob.ObjectReader: objs are the objects it read, whole, with the ETags
// S3 gave (a blob store in the same S3 can copy them instead of taking the
// bytes again); partial says some bytes came from elsewhere.
type reader struct {
	s       *Store
	ctx     context.Context
	segs    []segment
	extra   [][]byte
	cur     io.ReadCloser
	left    int64 // bytes the current segment still owes
	objs    []blob.Object
	partial bool
	eof     bool
}

var _ blob.ObjectReader = (*reader)(nil)

// Objects implements blob.ObjectReader.
func (r *reader) Objects() ([]blob.Object, bool) {
	return r.objs, r.eof && !r.partial && len(r.objs) > 0
}

func (r *reader) Read(p []byte) (int, error) {
	for {
		if r.cur == nil {
			if err := r.next(); err != nil {
				return 0, err
			}
		}
		n, err := r.cur.Read(p)
		r.left -= int64(n)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			if r.left != 0 {
				return n, imgmgr.Internal("s3stage.read", fmt.Errorf("a staged object ended %d bytes short", r.left))
			}
			if n > 0 {
				return n, nil
			}
			continue
		}
		if err != nil {
			return n, r.s.mapErr("s3stage.read", err)
		}
		return n, nil
	}
}

// next opens the next segment, or returns io.EOF after the last.
func (r *reader) next() error {
	switch {
	case len(r.segs) > 0:
		sg := r.segs[0]
		r.segs = r.segs[1:]
		opts := minio.GetObjectOptions{}
		if err := opts.SetRange(0, sg.n-1); err != nil {
			return imgmgr.Internal("s3stage.read", err)
		}
		rc, info, hdr, err := r.s.c.GetObject(r.ctx, r.s.cfg.Bucket, sg.key, opts)
		if err != nil {
			return r.s.mapErr("s3stage.read", fmt.Errorf("%s: %w", sg.key, err))
		}
		r.cur, r.left = rc, sg.n
		r.addObject(sg, info.ETag, hdr.Get("Content-Range"))
	case len(r.extra) > 0:
		r.cur, r.left = io.NopCloser(bytes.NewReader(r.extra[0])), int64(len(r.extra[0]))
		r.extra = r.extra[1:]
		r.partial = true
	default:
		r.eof = true
		return io.EOF
	}
	return nil
}

// addObject records segment sg as read from its object, when it is the
// whole object: the total of Content-Range ("bytes 0-N/TOTAL") is sg.n.
func (r *reader) addObject(sg segment, etag, contentRange string) {
	_, total, _ := strings.Cut(contentRange, "/")
	if n, err := strconv.ParseInt(total, 10, 64); err != nil || n != sg.n || etag == "" {
		r.partial = true
		return
	}
	r.objs = append(r.objs, blob.Object{Endpoint: r.s.cfg.Endpoint, Bucket: r.s.cfg.Bucket, Key: sg.key, ETag: etag, Size: sg.n})
}

func (r *reader) Close() error {
	r.segs, r.extra = nil, nil
	if r.cur != nil {
		err := r.cur.Close()
		r.cur = nil
		return err
	}
	return nil
}
