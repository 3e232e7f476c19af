package staging

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/imgmgr/imgmgr"
)

// LocalConfig configures a Local store.
type LocalConfig struct {
	Dir string // directory of the staged uploads; created 0700 when missing. Required.
}

// Validate checks the config.
func (c LocalConfig) Validate() error {
	if strings.TrimSpace(c.Dir) == "" {
		return errors.New("staging: a directory is required")
	}
	return nil
}

// Local stores uploads in a local directory, three files per upload:
//
//	<id>.json  the record, replaced atomically (temp file, fsync, rename, fsync dir)
//	<id>.bin   the bytes; may hold uncommitted bytes past the offset after a crash
//	<id>.off   the committed offset, in two checksummed slots written in turn
//	           and fsynced, so a torn write leaves the previous commit readable
//
// The data file is fsynced before the offset that covers it is written, so
// a committed offset never covers a byte that is not on disk.
type Local struct {
	dir string
	mu  sync.Mutex // serialises record replacements
}

var (
	_ Store      = (*Local)(nil)
	_ LocalFiler = (*Local)(nil)
)

// NewLocal returns a store in cfg.Dir, creating the directory.
func NewLocal(cfg LocalConfig) (*Local, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("staging: %w", err)
	}
	return &Local{dir: cfg.Dir}, nil
}

func (s *Local) path(id, ext string) string { return filepath.Join(s.dir, id+ext) }

func notFound() error { return imgmgr.ErrNotFound("upload") }

// Create implements Store.
func (s *Local) Create(ctx context.Context, u Upload) error {
	if !ValidID(u.ID) {
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_upload_id", "invalid upload id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(s.path(u.ID, ".json")); err == nil {
		return imgmgr.Errorf(imgmgr.KindConflict, "upload_exists", "upload %s exists", u.ID)
	}
	for _, ext := range []string{".bin", ".off"} {
		f, err := os.OpenFile(s.path(u.ID, ext), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return imgmgr.Internal("staging.Create", err)
		}
		if ext == ".off" {
			_, err = f.WriteAt(make([]byte, 2*slotSize), 0)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return imgmgr.Internal("staging.Create", err)
		}
	}
	return s.writeRecord(u)
}

// Get implements Store.
func (s *Local) Get(ctx context.Context, id string) (Upload, error) {
	u, err := s.readRecord(id)
	if err != nil {
		return Upload{}, err
	}
	u.Offset, _, err = s.readOffset(id)
	return u, err
}

// Update implements Store.
func (s *Local) Update(ctx context.Context, id string, fn func(*Upload) error) (Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.readRecord(id)
	if err != nil {
		return Upload{}, err
	}
	if err := fn(&u); err != nil {
		return Upload{}, err
	}
	u.ID = id
	if err := s.writeRecord(u); err != nil {
		return Upload{}, err
	}
	u.Offset, _, err = s.readOffset(id)
	return u, err
}

func (s *Local) readRecord(id string) (Upload, error) {
	if !ValidID(id) {
		return Upload{}, notFound()
	}
	b, err := os.ReadFile(s.path(id, ".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return Upload{}, notFound()
	}
	if err != nil {
		return Upload{}, imgmgr.Internal("staging.read", err)
	}
	var u Upload
	if err := json.Unmarshal(b, &u); err != nil {
		return Upload{}, imgmgr.Internal("staging.read", fmt.Errorf("record %s: %w", id, err))
	}
	return u, nil
}

// writeRecord replaces the record atomically and durably.
func (s *Local) writeRecord(u Upload) error {
	b, err := json.Marshal(u)
	if err != nil {
		return imgmgr.Internal("staging.write", err)
	}
	tmp, err := os.CreateTemp(s.dir, ".record-*")
	if err != nil {
		return imgmgr.Internal("staging.write", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), s.path(u.ID, ".json"))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return imgmgr.Internal("staging.write", err)
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return imgmgr.Internal("staging.syncDir", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return imgmgr.Internal("staging.syncDir", err)
	}
	return nil
}

// The offset file holds two slots of slotSize bytes: sequence (8), offset
// (8), CRC-32 of those 16 bytes (4). The valid slot with the higher
// sequence is the committed offset.
const slotSize = 32

func (s *Local) readOffset(id string) (offset int64, seq uint64, err error) {
	b, err := os.ReadFile(s.path(id, ".off"))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, 0, nil // a record without bytes (expired or completed)
	}
	if err != nil {
		return 0, 0, imgmgr.Internal("staging.offset", err)
	}
	for i := 0; i+slotSize <= len(b); i += slotSize {
		slot := b[i : i+slotSize]
		sq, off := binary.BigEndian.Uint64(slot), int64(binary.BigEndian.Uint64(slot[8:]))
		if crc32.ChecksumIEEE(slot[:16]) != binary.BigEndian.Uint32(slot[16:]) || off < 0 {
			continue
		}
		if sq >= seq {
			seq, offset = sq, off
		}
	}
	return offset, seq, nil
}

// writeOffset writes the next commit into the older slot and fsyncs it.
func writeOffset(f *os.File, seq uint64, offset int64) error {
	var slot [slotSize]byte
	binary.BigEndian.PutUint64(slot[:], seq)
	binary.BigEndian.PutUint64(slot[8:], uint64(offset))
	binary.BigEndian.PutUint32(slot[16:], crc32.ChecksumIEEE(slot[:16]))
	if _, err := f.WriteAt(slot[:], int64(seq%2)*slotSize); err != nil {
		return err
	}
	return f.Sync()
}

// NewWriter implements Store.
func (s *Local) NewWriter(ctx context.Context, id string, offset int64) (Writer, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Offset != offset {
		return nil, imgmgr.Errorf(imgmgr.KindConflict, "offset_mismatch", "the upload is at offset %d, not %d", u.Offset, offset)
	}
	_, seq, err := s.readOffset(id)
	if err != nil {
		return nil, err
	}
	data, err := os.OpenFile(s.path(id, ".bin"), os.O_RDWR, 0)
	if err != nil {
		return nil, imgmgr.Internal("staging.NewWriter", err)
	}
	off, err := os.OpenFile(s.path(id, ".off"), os.O_RDWR, 0)
	if err != nil {
		data.Close()
		return nil, imgmgr.Internal("staging.NewWriter", err)
	}
	w := &localWriter{data: data, off: off, seq: seq, committed: offset, offset: offset}
	// Drop bytes past the committed offset: the tail of a crashed or
	// discarded write.
	if err := data.Truncate(offset); err != nil {
		w.Close()
		return nil, imgmgr.Internal("staging.NewWriter", err)
	}
	if _, err := data.Seek(offset, io.SeekStart); err != nil {
		w.Close()
		return nil, imgmgr.Internal("staging.NewWriter", err)
	}
	return w, nil
}

type localWriter struct {
	data, off         *os.File
	seq               uint64
	committed, offset int64
	synced            int64 // bytes known durable in data
}

func (w *localWriter) Write(p []byte) (int, error) {
	n, err := w.data.Write(p)
	w.offset += int64(n)
	if err != nil {
		return n, imgmgr.Internal("staging.Write", err)
	}
	return n, nil
}

func (w *localWriter) Offset() int64 { return w.offset }

func (w *localWriter) Committed() int64 { return w.committed }

func (w *localWriter) Commit(offset int64) error {
	if offset < w.committed || offset > w.offset {
		return imgmgr.Internal("staging.Commit", fmt.Errorf("commit %d outside [%d, %d]", offset, w.committed, w.offset))
	}
	if offset == w.committed {
		return nil
	}
	if offset > w.synced {
		if err := w.data.Sync(); err != nil {
			return imgmgr.Internal("staging.Commit", err)
		}
		w.synced = w.offset
	}
	if err := writeOffset(w.off, w.seq+1, offset); err != nil {
		return imgmgr.Internal("staging.Commit", err)
	}
	w.seq++
	w.committed = offset
	return nil
}

func (w *localWriter) Close() error {
	var err error
	if w.offset > w.committed {
		err = w.data.Truncate(w.committed)
	}
	if cerr := w.data.Close(); err == nil {
		err = cerr
	}
	if cerr := w.off.Close(); err == nil {
		err = cerr
	}
	return imgmgr.Internal("staging.Close", err)
}

// Concat implements Store.
func (s *Local) Concat(ctx context.Context, id string, parts []string) error {
	w, err := s.NewWriter(ctx, id, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	lw := w.(*localWriter)
	for _, p := range parts {
		if err := s.appendPart(ctx, lw, p); err != nil {
			return err
		}
	}
	return w.Commit(w.Offset())
}

func (s *Local) appendPart(ctx context.Context, w *localWriter, part string) error {
	u, err := s.Get(ctx, part)
	if err != nil {
		return err
	}
	f, err := os.Open(s.path(part, ".bin"))
	if err != nil {
		return imgmgr.Internal("staging.Concat", err)
	}
	defer f.Close()
	// *os.File to *os.File: the kernel copies (copy_file_range) when it can.
	n, err := io.Copy(w.data, io.LimitReader(f, u.Offset))
	w.offset += n
	if err == nil && n != u.Offset {
		err = fmt.Errorf("part %s: %d of %d bytes", part, n, u.Offset)
	}
	if err != nil {
		return imgmgr.Internal("staging.Concat", err)
	}
	return ctx.Err()
}

// Open implements Store.
func (s *Local) Open(ctx context.Context, id string) (io.ReadCloser, error) {
	u, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.path(id, ".bin"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound()
	}
	if err != nil {
		return nil, imgmgr.Internal("staging.Open", err)
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(f, u.Offset), f}, nil
}

// File implements LocalFiler. The file holds the committed bytes and,
// while a writer of the upload is open, the bytes it wrote since.
func (s *Local) File(ctx context.Context, id string) (*os.File, error) {
	if !ValidID(id) {
		return nil, notFound()
	}
	f, err := os.Open(s.path(id, ".bin"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notFound()
	}
	if err != nil {
		return nil, imgmgr.Internal("staging.File", err)
	}
	return f, nil
}

// DeleteData implements Store.
func (s *Local) DeleteData(ctx context.Context, id string) error {
	if !ValidID(id) {
		return notFound()
	}
	return removeAll(s.path(id, ".bin"), s.path(id, ".off"))
}

// Delete implements Store.
func (s *Local) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return removeAll(s.path(id, ".json"), s.path(id, ".bin"), s.path(id, ".off"))
}

func removeAll(paths ...string) error {
	for _, p := range paths {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return imgmgr.Internal("staging.remove", err)
		}
	}
	return nil
}

// List implements Store.
func (s *Local) List(ctx context.Context, fn func(Upload) error) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return imgmgr.Internal("staging.List", err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !ValidID(id) {
			continue
		}
		u, err := s.Get(ctx, id)
		if imgmgr.IsNotFound(err) {
			continue // deleted meanwhile
		}
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
