package s3stage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// writer appends to one upload; see the package comment for its memory.
// The part being filled is cur. Told by Expect that a part will fill, the
// writer streams it to S3 while the bytes arrive; otherwise it sends a
// part once full. Parts sent since the last commit are in sent.
type writer struct {
	s         *Store
	ctx       context.Context // detached from the caller's request, ended by Close
	cancel    context.CancelFunc
	id        string
	st        layout // the last commit
	uploadID  string // multipart upload the parts go to; "" until needed
	sent      []*chunk
	cur       *chunk // cur.data holds the bytes [cur.start, offset)
	offset    int64
	expectEnd int64 // the caller said the bytes up to here are coming
	sem       chan struct{}
	sealed    bool  // OpenWritten ran: only Close is allowed
	err       error // a failure that ends the writer's use
}

var (
	_ staging.Writer        = (*writer)(nil)
	_ staging.WrittenOpener = (*writer)(nil)
	_ staging.Expecter      = (*writer)(nil)
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
	l, err := s.writerLayout(ctx, id)
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
	w := &writer{s: s, ctx: wctx, cancel: cancel, id: id, st: l, uploadID: l.UploadID, offset: l.Offset,
		sem: make(chan struct{}, s.cfg.Concurrency)}
	w.cur = w.newChunk(l.base())
	if t := l.tailSize(); t > 0 {
		if w.cur.data, err = s.readRange(ctx, s.tailKey(id, l.Offset), 0, t, w.cur.data); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// writerLayout reads the layout a writer starts from. Only when there is
// no ID.state (no commit yet, or the bytes were freed) does it read the
// record as well, to tell an empty upload from a missing one: every PATCH
// opens a writer right after a Get has read the record, so one small GET
// fewer per PATCH. An ID.state without a record (a Delete that failed
// half-way) lets a writer open; what it commits goes with SweepAbandoned.
func (s *Store) writerLayout(ctx context.Context, id string) (layout, error) {
	if !staging.ValidID(id) {
		return layout{}, notFound()
	}
	var l layout
	err := s.getJSON(ctx, "s3stage.layout", s.key(id, ".state"), &l)
	if errors.Is(err, errMissing) {
		_, err = s.readRecord(ctx, id)
	}
	return l, err
}

func (w *writer) newChunk(start int64) *chunk {
	c := &chunk{start: start, data: w.s.getBuf(), done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (w *writer) Offset() int64 { return w.offset }

func (w *writer) Committed() int64 { return w.st.Offset }

// Expect implements staging.Expecter: every part that the next n bytes
// fill is streamed as they arrive.
func (w *writer) Expect(n int64) { w.expectEnd = max(w.expectEnd, w.offset+n) }

// Write buffers p in the part being filled, sending each part that fills;
// it blocks while Concurrency parts are in flight.
func (w *writer) Write(p []byte) (int, error) {
	if w.sealed {
		return 0, imgmgr.Internal("s3stage.Write", errSealed)
	}
	var n int
	for len(p) > 0 {
		if w.err == nil {
			w.err = w.maybeStream()
		}
		if w.err != nil {
			return n, w.err
		}
		c := w.cur
		k := copy(c.data[len(c.data):cap(c.data)], p)
		c.data = c.data[:len(c.data)+k]
		p, n, w.offset = p[k:], n+k, w.offset+int64(k)
		if c.num > 0 {
			c.setFilled(len(c.data))
		}
		if len(c.data) == cap(c.data) {
			if w.err = w.flush(); w.err != nil {
				return n, w.err
			}
		}
	}
	return n, nil
}

// maybeStream starts uploading the part being filled when the bytes
// expected will fill it.
func (w *writer) maybeStream() error {
	c := w.cur
	if c.num > 0 || w.expectEnd < c.start+int64(cap(c.data)) {
		return nil
	}
	if err := w.number(c, int64(cap(c.data))); err != nil {
		return err
	}
	c.filled = len(c.data)
	w.sem <- struct{}{}
	r := newCRCReader(newStreamReader(c))
	go w.upload(c, w.uploadID, r, streamPartOpts(r), true)
	return nil
}

// number gives c the next part number of the multipart upload, starting
// that first.
func (w *writer) number(c *chunk, size int64) error {
	if err := w.ensureUpload(); err != nil {
		return err
	}
	if c.num = w.nextPart(); c.num > maxParts {
		c.num = 0
		return imgmgr.Errorf(imgmgr.KindTooLarge, "upload_too_large", "the upload needs more than %d parts of %d bytes", maxParts, w.s.cfg.PartSize)
	}
	c.size = size
	return nil
}

// flush sends the part being filled (streamed, or now from memory) and
// begins the next.
func (w *writer) flush() error {
	c := w.cur
	switch {
	case c.num > 0 && int64(len(c.data)) != c.size:
		return imgmgr.Internal("s3stage.flush", fmt.Errorf("a streaming part of %d bytes flushed at %d", c.size, len(c.data)))
	case c.num == 0:
		if err := w.number(c, int64(len(c.data))); err != nil {
			return err
		}
		w.sem <- struct{}{}
		go w.upload(c, w.uploadID, bytes.NewReader(c.data), partOpts(c.data), false)
	}
	w.sent = append(w.sent, c)
	w.freeSent()
	w.cur = w.newChunk(c.end())
	return nil
}

func (w *writer) nextPart() int { return len(w.st.Parts) + len(w.sent) + 1 }

// upload sends one part; opts carry its CRC32C (checksum.go). A streaming
// part waits on the writer's bytes, so it is not bounded by RequestTimeout;
// Close and OpenWritten abort it.
func (w *writer) upload(c *chunk, uploadID string, body io.Reader, opts minio.PutObjectPartOptions, streaming bool) {
	defer func() { <-w.sem; close(c.done) }()
	ctx, cancel := w.ctx, context.CancelFunc(func() {})
	if !streaming {
		ctx, cancel = w.s.reqCtx(w.ctx)
	}
	defer cancel()
	p, err := w.s.c.PutObjectPart(ctx, w.s.cfg.Bucket, w.s.key(w.id, ".bin"), uploadID, c.num, body, c.size, opts)
	c.etag, c.err = p.ETag, w.s.mapErr("s3stage.part", err)
}

// settle waits for a sent part and, when its upload failed (a stream cut
// off by S3, say), sends it once more from memory.
func (w *writer) settle(c *chunk) error {
	<-c.done
	if c.err == nil || c.data == nil {
		return c.err
	}
	ctx, cancel := w.s.reqCtx(w.ctx)
	defer cancel()
	p, err := w.s.c.PutObjectPart(ctx, w.s.cfg.Bucket, w.s.key(w.id, ".bin"), w.uploadID, c.num,
		bytes.NewReader(c.data), c.size, partOpts(c.data))
	c.etag, c.err = p.ETag, w.s.mapErr("s3stage.part", err)
	return c.err
}

// freeSent frees the bytes of parts sent without error, but the last.
func (w *writer) freeSent() {
	for _, c := range w.sent[:len(w.sent)-1] {
		if c.data != nil && c.finished() && c.err == nil {
			w.s.putBuf(c.data)
			c.data = nil
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
	if len(w.st.Parts) == 0 && len(w.sent) == 0 && w.st.Object > 0 {
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
		w.sent = append(w.sent, c)
		srcOff, at = srcOff+size, at+size
	}
	return nil
}

// Commit waits for the parts that end at or before offset, writes the
// bytes past them as a new tail object, then ID.state (the commit point),
// and removes the previous tail. A part still being filled or sent past
// offset goes on. offset may lie up to a part behind Offset(); further
// back the bytes are no longer held and Commit fails (tus commits at most
// one byte behind).
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
	if w.err != nil {
		return w.err
	}
	l := w.st
	l.Offset, l.Parts = offset, slices.Clip(l.Parts)
	i := 0
	for ; i < len(w.sent) && w.sent[i].end() <= offset; i++ {
		c := w.sent[i]
		if err := w.settle(c); err != nil {
			return err
		}
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
	for _, c := range w.sent[:i] {
		w.s.putBuf(c.data)
	}
	w.sent = slices.Delete(w.sent, 0, i)
	return nil
}

// held returns the bytes [from, to) from memory: they lie in the first
// part not committed (which must still hold its bytes) or in cur.
func (w *writer) held(from, to int64) ([]byte, error) {
	if from == to {
		return nil, nil
	}
	for _, c := range w.sent {
		if c.end() <= from {
			continue
		}
		if c.data == nil || c.start != from || to > c.end() {
			return nil, imgmgr.Internal("s3stage.Commit", fmt.Errorf("bytes [%d, %d) are no longer held (a commit more than a part behind)", from, to))
		}
		return c.data[:to-c.start], nil
	}
	return w.cur.data[from-w.cur.start : to-w.cur.start], nil
}

// OpenWritten implements staging.WrittenOpener: it seals the committed
// bytes and reads them, then the bytes written since from memory. The
// writer accepts nothing but Close afterwards; close the reader first.
func (w *writer) OpenWritten(ctx context.Context) (io.ReadCloser, error) {
	if w.sealed {
		return nil, imgmgr.Internal("s3stage.OpenWritten", errSealed)
	}
	w.stopStreams()
	var extra [][]byte
	from := w.st.Offset
	for _, c := range w.sent {
		if c.end() <= from {
			continue
		}
		if c.data == nil || c.start > from {
			return nil, imgmgr.Internal("s3stage.OpenWritten", fmt.Errorf("bytes from %d are no longer held", from))
		}
		extra, from = append(extra, c.data[from-c.start:]), c.end()
	}
	extra = append(extra, w.cur.data[from-w.cur.start:])
	base := w.st.base()
	rest, restErr := w.held(base, w.offset)
	l, err := w.s.seal(w.ctx, w.id, w.st)
	if err != nil {
		return nil, err
	}
	w.st, w.uploadID, w.sealed = l, "", true
	if restErr == nil && len(rest) > 0 && l.Object == base {
		return w.openRest(ctx, l, rest)
	}
	return w.s.newReader(ctx, w.id, l, extra), nil
}

// openRest reads a sealed layout whose bytes past ID.bin, committed or
// not, are rest (less than a part): it writes them as one object first,
// the tail of their end offset, so that the reader's bytes are whole
// objects (blob.ObjectReader) that a blob store in the same S3 can copy
// instead of taking them again. That object is not in ID.state; DeleteData
// removes it with the other tails, and a writer's later commit at its
// offset rewrites it with the same bytes.
func (w *writer) openRest(ctx context.Context, l layout, rest []byte) (io.ReadCloser, error) {
	end := l.Object + int64(len(rest))
	if err := w.s.putBytes(w.ctx, "s3stage.OpenWritten", w.s.tailKey(w.id, end), rest); err != nil {
		return nil, err
	}
	segs := []segment{{w.s.tailKey(w.id, end), int64(len(rest))}}
	if l.Object > 0 {
		segs = append([]segment{{w.s.key(w.id, ".bin"), l.Object}}, segs...)
	}
	return &reader{s: w.s, ctx: ctx, segs: segs}, nil
}

// stopStreams gives up the stream of the part being filled and waits for
// every upload in flight.
func (w *writer) stopStreams() {
	if c := w.cur; c != nil && c.num > 0 {
		c.abort()
		<-c.done
		c.num, c.size = 0, 0
	}
	for _, c := range w.sent {
		<-c.done
	}
}

// Close drops the bytes past the last commit: parts sent past it are not
// in ID.state, so the next writer overwrites them and a completion leaves
// them out. It ends the uploads in flight and waits for them.
func (w *writer) Close() error {
	w.cancel()
	w.stopStreams()
	for _, c := range w.sent {
		w.s.putBuf(c.data)
	}
	if w.cur != nil {
		w.s.putBuf(w.cur.data)
	}
	w.sent, w.cur = nil, nil
	return nil
}
