package s3stage

import (
	"errors"
	"io"
	"sync"
)

// chunk is one part of the upload sent, being sent or being filled since
// the last commit: bytes [start, start+len(data)) of the upload (size for
// a server-side copy, which has no data). A streaming chunk is uploaded
// while the writer fills it: its reader blocks for bytes not yet written.
type chunk struct {
	num   int
	start int64
	size  int64  // the part's size: cap(data) while streaming, len(data) once sent
	data  []byte // nil for a server-side copy and once freed
	done  chan struct{}
	etag  string // set with err before done is closed
	err   error

	mu      sync.Mutex
	cond    *sync.Cond
	filled  int  // bytes of data the writer has written (streaming)
	aborted bool // the writer gave the stream up; its reader fails
}

func (c *chunk) end() int64 { return c.start + c.size }

// finished reports whether the chunk's upload ended.
func (c *chunk) finished() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

var errStreamAborted = errors.New("s3stage: part stream given up")

// setFilled tells a streaming reader that n bytes of data are written.
func (c *chunk) setFilled(n int) {
	c.mu.Lock()
	c.filled = n
	c.mu.Unlock()
	c.cond.Broadcast()
}

// abort makes the chunk's reader fail, so that its upload ends.
func (c *chunk) abort() {
	c.mu.Lock()
	c.aborted = true
	c.mu.Unlock()
	c.cond.Broadcast()
}

// streamReader reads a streaming chunk's bytes as the writer adds them.
// It seeks back to the start, so that minio-go may retry the request.
type streamReader struct {
	c   *chunk
	buf []byte // the chunk's whole buffer: the reader never reads its slice header
	pos int
}

func newStreamReader(c *chunk) *streamReader {
	return &streamReader{c: c, buf: c.data[:c.size]}
}

func (r *streamReader) Read(p []byte) (int, error) {
	if r.pos == len(r.buf) {
		return 0, io.EOF
	}
	c := r.c
	c.mu.Lock()
	for c.filled <= r.pos && !c.aborted {
		c.cond.Wait()
	}
	filled, aborted := c.filled, c.aborted
	c.mu.Unlock()
	if aborted {
		return 0, errStreamAborted
	}
	n := copy(p, r.buf[r.pos:filled])
	r.pos += n
	return n, nil
}

func (r *streamReader) Seek(offset int64, whence int) (int64, error) {
	if offset != 0 || whence != io.SeekStart {
		return 0, errors.New("s3stage: a part stream only seeks to its start")
	}
	r.pos = 0
	return 0, nil
}
