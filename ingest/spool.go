package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"os"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
)

// spooled is an upload's bytes, kept in memory when small, else in a temp
// file, with their SHA-256 and size computed on the way in.
type spooled struct {
	mem    []byte   // when the bytes stayed in memory
	file   *os.File // else the temp file (removed by Close unless borrowed)
	owned  bool     // Close removes file
	size   int64
	sha256 string
	head   []byte // first SniffLen bytes
	// objects are S3 objects whose concatenation is exactly these bytes
	// (the reader spooled was a blob.ObjectReader), or nil.
	objects []blob.Object
}

// Close releases the spool: removes a temp file it created.
func (s *spooled) Close() {
	if s.file != nil && s.owned {
		s.file.Close()
		os.Remove(s.file.Name())
	}
}

// Reader returns a reader of the whole content from the start.
func (s *spooled) Reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.mem), nil
	}
	return io.NewSectionReader(s.file, 0, s.size), nil
}

// spool reads r to its end into memory (up to memMax bytes) or a temp file in
// dir, hashing and counting; past maxBytes it stops reading and fails with
// KindTooLarge. On error nothing is left behind.
func spool(r io.Reader, dir string, memMax, maxBytes int64) (*spooled, error) {
	return spoolWith(r, func() (*os.File, error) { return os.CreateTemp(dir, "ingest-*") }, memMax, maxBytes)
}

// spoolWith is spool with the temp file made by create.
func spoolWith(r io.Reader, create func() (*os.File, error), memMax, maxBytes int64) (*spooled, error) {
	h := sha256.New()
	lim := &io.LimitedReader{R: readSide{r}, N: maxBytes + 1}
	// Fill memory first.
	var b bytes.Buffer
	b.Grow(int(min(memMax, 64<<10) + 1))
	n, err := io.CopyN(&b, lim, memMax+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, readErr(err)
	}
	if n <= memMax {
		if n > maxBytes {
			return nil, tooLarge(maxBytes)
		}
		h.Write(b.Bytes())
		return finish(&spooled{mem: b.Bytes(), size: n}, h, b.Bytes()), nil
	}
	f, err := create()
	if err != nil {
		return nil, imgmgr.Internal("ingest.spool", err)
	}
	s := &spooled{file: f, owned: true}
	head := append([]byte(nil), b.Bytes()[:min(b.Len(), SniffLen)]...)
	w := io.MultiWriter(f, h)
	total, err := io.Copy(w, io.MultiReader(&b, lim))
	if err != nil {
		s.Close()
		if errors.As(err, new(readFailure)) {
			return nil, readErr(err)
		}
		return nil, imgmgr.Internal("ingest.spool", err) // writing the temp file failed
	}
	if total > maxBytes {
		s.Close()
		return nil, tooLarge(maxBytes)
	}
	s.size = total
	return finish(s, h, head), nil
}

// spoolFile hashes an already complete file without copying it; the file is
// borrowed, not removed by Close.
func spoolFile(f *os.File) (*spooled, error) {
	h := sha256.New()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, imgmgr.Internal("ingest.spoolFile", err)
	}
	head := make([]byte, SniffLen)
	hn, _ := io.ReadFull(f, head)
	h.Write(head[:hn])
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, imgmgr.Internal("ingest.spoolFile", err)
	}
	return finish(&spooled{file: f, size: n + int64(hn)}, h, head[:hn]), nil
}

func finish(s *spooled, h hash.Hash, head []byte) *spooled {
	s.sha256 = hex.EncodeToString(h.Sum(nil))
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	s.head = head
	return s
}

func tooLarge(max int64) error {
	return imgmgr.Errorf(imgmgr.KindTooLarge, "file_too_large", "file exceeds the limit of %d bytes", max)
}

// readSide marks the errors of the upload stream, so that spool can tell
// them from failed writes of its temp file.
type readSide struct{ r io.Reader }

func (rs readSide) Read(p []byte) (int, error) {
	n, err := rs.r.Read(p)
	if err != nil && err != io.EOF {
		err = readFailure{err}
	}
	return n, err
}

// readFailure is an error of the stream being spooled.
type readFailure struct{ err error }

func (e readFailure) Error() string { return e.err.Error() }
func (e readFailure) Unwrap() error { return e.err }

// readErr keeps a client-caused read error (its *imgmgr.Error) and reports
// any other as a broken upload stream.
func readErr(err error) error {
	var e *imgmgr.Error
	if errors.As(err, &e) {
		return err
	}
	return &imgmgr.Error{Kind: imgmgr.KindInvalid, Code: "upload_interrupted", Message: "the upload stream ended with an error", Err: err}
}
