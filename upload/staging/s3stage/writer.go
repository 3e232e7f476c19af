package s3stage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// chunk is one part sent since the last commit: bytes [start, start+size)
// of the upload. data is nil for a server-side copy and once freed; only
// the last chunk keeps its bytes after its upload, for a commit that ends
// inside it.
type chunk struct {
	num   int
	start int64
	size  int64
	data  []byte
	done  chan struct{} // closed when the upload ended; then etag or err is set
	etag  string
	err   error
}

func (c *chunk) end() int64 { return c.start + c.size }

// writer appends to one upload; see the package comment for its memory.
type writer struct {
	s        *Store
	ctx      context.Context // detached from the caller's request, ended by Close
	cancel   context.CancelFunc
	id       string
	st       layout   // the last commit
	uploadID string   // multipart upload the parts go to; "" until needed
	chunks   []*chunk // parts sent since the last commit, in order
	buf      []byte   // bytes [bufStart, offset), not yet sent; cap PartSize
	bufStart int64
	offset   int64
	sem      chan struct{} // bounds the uploads in flight
	sealed   bool          // OpenWritten ran: only Close is allowed
	err      error         // a failed part upload fails every later Write and Commit
}

var (
	_ staging.Writer        = (*writer)(nil)
	_ staging.WrittenOpener = (*writer)(nil)
)

// NewWriter implements staging.Store. The writer's S3 requests do not end
// with ctx (a commit after a client went away must still be made); each is
// bounded by RequestTimeout, and Close ends those in flight.
func (s *Store) NewWriter(ctx context.Context, id string, offset int64) (staging.Writer, error) {
	w, err := s.newWriter(ctx, id, offset)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func (s *Store) newWriter(ctx context.Context, id string, offset int64) (*writer, error) {
	if _, err := s.readRecord(ctx, id); err != nil {
		return nil, err
	}
	l, err := s.readLayout(ctx, id)
	if err == nil && l.Sealing {
		l, err = s.seal(ctx, id, l) // finish a seal a crash interrupted
	}
	if err != nil {
		return nil, err
	}
	if l.Offset != offset {
		return nil, imgmgr.Errorf(imgmgr.KindConflict, "offset_mismatch", "the upload is at offset %d, not %d", l.Offset, offset)
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &writer{s: s, ctx: wctx, cancel: cancel, id: id, st: l, uploadID: l.UploadID,
		buf: s.getBuf(), bufStart: l.base(), offset: l.Offset, sem: make(chan struct{}, s.cfg.Concurrency)}
	if t := l.tailSize(); t > 0 {
		if w.buf, err = s.readRange(ctx, s.tailKey(id, l.Offset), 0, t, w.buf); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) Offset() int64 { return w.offset }

func (w *writer) Committed() int64 { return w.st.Offset }

// Write buffers p, sending each full part as it fills; it blocks while
// Concurrency parts are in flight.
func (w *writer) Write(p []byte) (int, error) {
	var n int
	if w.sealed {
		return 0, imgmgr.Internal("s3stage.Write", errSealed)
	}
	for len(p) > 0 {
		if w.err != nil {
			return n, w.err
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n, w.offset = p[k:], n+k, w.offset+int64(k)
		if len(w.buf) == cap(w.buf) {
			if w.err = w.flush(); w.err != nil {
				return n, w.err
			}
		}
	}
	return n, nil
}

// flush sends buf as the next part, in the background.
func (w *writer) flush() error {
	if err := w.ensureUpload(); err != nil {
		return err
	}
	c := &chunk{num: w.nextPart(), start: w.bufStart, size: int64(len(w.buf)), data: w.buf, done: make(chan struct{})}
	if c.num > maxParts {
		return imgmgr.Errorf(imgmgr.KindTooLarge, "upload_too_large", "the upload needs more than %d parts of %d bytes", maxParts, w.s.cfg.PartSize)
	}
	w.chunks = append(w.chunks, c)
	w.bufStart, w.buf = c.end(), nil
	w.freeSent()
	w.sem <- struct{}{}
	go w.upload(c, w.uploadID)
	w.buf = w.s.getBuf()
	return nil
}

func (w *writer) nextPart() int { return len(w.st.Parts) + len(w.chunks) + 1 }

func (w *writer) upload(c *chunk, uploadID string) {
	defer func() { <-w.sem; close(c.done) }()
	ctx, cancel := w.s.reqCtx(w.ctx)
	defer cancel()
	p, err := w.s.c.PutObjectPart(ctx, w.s.cfg.Bucket, w.s.key(w.id, ".bin"), uploadID, c.num,
		bytes.NewReader(c.data), c.size, minio.PutObjectPartOptions{})
	c.etag, c.err = p.ETag, w.s.mapErr("s3stage.part", err)
}

// freeSent frees the bytes of finished chunks but the last.
func (w *writer) freeSent() {
	for _, c := range w.chunks[:len(w.chunks)-1] {
		if c.data == nil {
			continue
		}
		select {
		case <-c.done:
			w.s.putBuf(c.data)
			c.data = nil
		default:
		}
	}
}

// ensureUpload starts the multipart upload when there is none, recording
// it at once (so that SweepAbandoned knows it is live), and when the
// upload's committed bytes are a sealed object and no part exists yet,
// copies that object in as the first parts.
func (w *writer) ensureUpload() error {
	if w.uploadID == "" {
		rctx, cancel := w.s.reqCtx(w.ctx)
		id, err := w.s.c.NewMultipartUpload(rctx, w.s.cfg.Bucket, w.s.key(w.id, ".bin"),
			minio.PutObjectOptions{ContentType: "application/octet-stream"})
		cancel()
		if err != nil {
			return w.s.mapErr("s3stage.start", err)
		}
		l := w.st
		l.UploadID = id
		if err := w.s.writeLayout(w.ctx, w.id, l); err != nil {
			w.s.abort(w.ctx, w.id, id)
			return err
		}
		w.st, w.uploadID = l, id
	}
	if len(w.st.Parts) == 0 && len(w.chunks) == 0 && w.st.Object > 0 {
		return w.copyParts(w.s.key(w.id, ".bin"), 0, w.st.Object, 0)
	}
	return nil
}

// copyParts adds parts that S3 copies from n bytes of src at srcOff,
// placed at offset at of the upload: as few as S3's 5 GiB limit per copy
// allows, each at least 5 MiB (n must be).
func (w *writer) copyParts(src string, srcOff, n, at int64) error {
	count := (n + maxCopySize - 1) / maxCopySize
	for i := range count {
		size := n / count
		if i == count-1 {
			size = n - size*(count-1)
		}
		c := &chunk{num: w.nextPart(), start: at, size: size, done: make(chan struct{})}
		if c.num > maxParts {
			return imgmgr.Errorf(imgmgr.KindTooLarge, "upload_too_large", "the upload needs more than %d parts", maxParts)
		}
		rctx, cancel := w.s.reqCtx(w.ctx)
		p, err := w.s.c.CopyObjectPart(rctx, w.s.cfg.Bucket, src, w.s.cfg.Bucket, w.s.key(w.id, ".bin"), w.uploadID,
			c.num, srcOff, size, nil)
		cancel()
		if err != nil {
			return w.s.mapErr("s3stage.copy", fmt.Errorf("%s: %w", src, err))
		}
		c.etag = p.ETag
		close(c.done)
		w.chunks = append(w.chunks, c)
		srcOff, at = srcOff+size, at+size
	}
	return nil
}

// wait waits for every chunk in flight and returns the first failure.
func (w *writer) wait() error {
	for _, c := range w.chunks {
		<-c.done
		if c.err != nil && w.err == nil {
			w.err = c.err
		}
	}
	return w.err
}

// Commit waits for the parts that end at or before offset, writes the
// bytes past them as a new tail object, then ID.state (the commit point),
// and removes the previous tail. offset may lie up to a part behind
// Offset(); further back the bytes are no longer held and Commit fails
// (tus commits at most one byte behind).
func (w *writer) Commit(offset int64) error {
	if offset < w.st.Offset || offset > w.offset {
		return imgmgr.Internal("s3stage.Commit", fmt.Errorf("commit %d outside [%d, %d]", offset, w.st.Offset, w.offset))
	}
	if offset == w.st.Offset {
		return nil
	}
	if w.sealed {
		return imgmgr.Internal("s3stage.Commit", errSealed)
	}
	if err := w.wait(); err != nil {
		return err
	}
	l := w.st
	l.Offset, l.Parts = offset, slices.Clip(l.Parts)
	i := 0
	for ; i < len(w.chunks) && w.chunks[i].end() <= offset; i++ {
		c := w.chunks[i]
		l.Parts = append(l.Parts, part{Num: c.num, Size: c.size, ETag: c.etag})
	}
	tail, err := w.held(l.base(), offset)
	if err != nil {
		return err
	}
	if len(tail) > 0 {
		if err := w.s.putBytes(w.ctx, "s3stage.Commit", w.s.tailKey(w.id, offset), tail); err != nil {
			return err
		}
	}
	if err := w.s.writeLayout(w.ctx, w.id, l); err != nil {
		return err
	}
	if old := w.st; old.tailSize() > 0 {
		w.s.remove(w.ctx, "s3stage.Commit", w.s.tailKey(w.id, old.Offset)) // a leftover goes with DeleteData
	}
	w.st = l
	for _, c := range w.chunks[:i] {
		w.s.putBuf(c.data)
	}
	w.chunks = slices.Delete(w.chunks, 0, i)
	return nil
}

// held returns the bytes [from, to) from memory: they lie in the first
// chunk not committed (which must still hold its bytes) or in buf.
func (w *writer) held(from, to int64) ([]byte, error) {
	if from == to {
		return nil, nil
	}
	for _, c := range w.chunks {
		if c.end() <= from {
			continue
		}
		if c.data == nil || c.start != from || to > c.end() {
			return nil, imgmgr.Internal("s3stage.Commit", fmt.Errorf("bytes [%d, %d) are no longer held (a commit more than a part behind)", from, to))
		}
		return c.data[:to-c.start], nil
	}
	return w.buf[from-w.bufStart : to-w.bufStart], nil
}

// OpenWritten implements staging.WrittenOpener: it seals the committed
// bytes and reads them, then the bytes written since from memory. The
// writer accepts nothing but Close afterwards; close the reader first.
func (w *writer) OpenWritten(ctx context.Context) (io.ReadCloser, error) {
	if err := w.wait(); err != nil {
		return nil, err
	}
	var extra [][]byte
	from := w.st.Offset
	for _, c := range w.chunks {
		if c.end() <= from {
			continue
		}
		if c.data == nil || c.start > from {
			return nil, imgmgr.Internal("s3stage.OpenWritten", fmt.Errorf("bytes from %d are no longer held", from))
		}
		extra, from = append(extra, c.data[from-c.start:]), c.end()
	}
	extra = append(extra, w.buf[from-w.bufStart:])
	l, err := w.s.seal(w.ctx, w.id, w.st)
	if err != nil {
		return nil, err
	}
	w.st, w.uploadID, w.sealed = l, "", true
	return w.s.newReader(ctx, w.id, l, extra), nil
}

// Close drops the bytes past the last commit: parts sent past it are not
// in ID.state, so the next writer overwrites them and a completion leaves
// them out. It waits for the uploads in flight, which it cancels.
func (w *writer) Close() error {
	w.cancel()
	for _, c := range w.chunks {
		<-c.done
		w.s.putBuf(c.data)
	}
	w.chunks = nil
	w.s.putBuf(w.buf)
	w.buf = nil
	return nil
}
