package blob

import (
	"context"
	"errors"
	"io"
	"os"
)

// Opener is the optional ability of stores that can hand out a seekable
// file directly (localfs). Callers find it by type assertion.
type Opener interface {
	Open(ctx context.Context, key string) (*os.File, Info, error)
}

// ReadSeekCloser is what ranged HTTP serving needs.
type ReadSeekCloser interface {
	io.ReadSeeker
	io.Closer
}

// OpenSeeker returns a seekable reader of key: the store's own file when it
// is an Opener, else a reader that issues ranged Gets as it is read.
func OpenSeeker(ctx context.Context, s Store, key string) (ReadSeekCloser, Info, error) {
	if o, ok := s.(Opener); ok {
		return o.Open(ctx, key)
	}
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	return &rangeReader{ctx: ctx, s: s, key: key, size: info.Size}, info, nil
}

// rangeReader reads a blob through ranged Gets, reopening after a Seek.
type rangeReader struct {
	ctx  context.Context
	s    Store
	key  string
	size int64
	off  int64
	rc   io.ReadCloser
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.rc == nil {
		rc, err := r.s.Get(r.ctx, r.key, r.off, -1)
		if err != nil {
			return 0, err
		}
		r.rc = rc
	}
	n, err := r.rc.Read(p)
	r.off += int64(n)
	return n, err
}

func (r *rangeReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, errors.New("blob: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("blob: negative position")
	}
	if abs != r.off && r.rc != nil {
		r.rc.Close()
		r.rc = nil
	}
	r.off = abs
	return abs, nil
}

func (r *rangeReader) Close() error {
	if r.rc != nil {
		return r.rc.Close()
	}
	return nil
}

// Adopter is the optional ability of stores that can take over a complete
// local file as a blob without copying it (localfs, same filesystem). On
// success the file at path is gone; on error it is left in place.
type Adopter interface {
	Adopt(ctx context.Context, key, path string) (Info, error)
}
