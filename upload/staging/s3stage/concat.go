package s3stage

import (
	"context"
)

// Concat implements staging.Store. Each part is sealed, then its object is
// copied in server-side (UploadPartCopy) where S3 allows, that is for
// pieces of 5 MiB and more; shorter pieces (tails, small parts, and the
// bytes that bring a short buffer up to a part) pass through memory, at
// most a part at a time. The result is committed whole.
func (s *Store) Concat(ctx context.Context, id string, parts []string) error {
	w, err := s.newWriter(ctx, id, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	for _, p := range parts {
		if err := w.appendUpload(ctx, p); err != nil {
			return err
		}
	}
	return w.Commit(w.offset)
}

// appendUpload appends the committed bytes of upload id.
func (w *writer) appendUpload(ctx context.Context, id string) error {
	_, l, err := w.s.load(ctx, id)
	if err != nil {
		return err
	}
	if l, err = w.s.seal(ctx, id, l); err != nil {
		return err
	}
	if l.Object > 0 {
		if err := w.appendObject(w.s.key(id, ".bin"), l.Object); err != nil {
			return err
		}
	}
	if t := l.tailSize(); t > 0 {
		return w.appendObject(w.s.tailKey(id, l.Offset), t)
	}
	return nil
}

// appendObject appends the first n bytes of object src.
func (w *writer) appendObject(src string, n int64) error {
	var off int64
	for off < n {
		left := n - off
		buf := w.cur.data
		if (len(buf) > 0 && len(buf) < minPartSize) || left < minPartSize {
			// Too short to be a part of its own: through memory.
			k := min(left, int64(cap(buf)-len(buf)))
			var err error
			if w.cur.data, err = w.s.readRange(w.ctx, src, off, k, buf); err != nil {
				return err
			}
			off, w.offset = off+k, w.offset+k
			if len(w.cur.data) == cap(w.cur.data) {
				if err := w.flush(); err != nil {
					return err
				}
			}
			continue
		}
		if len(buf) > 0 { // at least 5 MiB: a valid, shorter part
			if err := w.flush(); err != nil {
				return err
			}
		}
		if err := w.ensureUpload(); err != nil {
			return err
		}
		if err := w.copyParts(src, off, left, w.offset); err != nil {
			return err
		}
		off, w.offset, w.cur.start = n, w.offset+left, w.cur.start+left
	}
	return nil
}
