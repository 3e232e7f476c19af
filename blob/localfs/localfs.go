// Package localfs is a blob.Store over a local directory. A key "a/b/<name>"
// lives at <root>/a/b/<n0n1>/<n2n3>/<name>: the last segment is sharded by
// its first four characters so no directory grows huge. Writes go to a temp
// file in <root>/tmp, are fsynced, then renamed into place.
package localfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
)

// Store is a blob.Store rooted at a directory.
type Store struct {
	root string
}

var _ blob.Store = (*Store)(nil)

// New returns a store rooted at dir, creating it and checking it is writable.
func New(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("localfs: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{root: abs}
	if err := os.MkdirAll(s.tmpDir(), 0o750); err != nil {
		return nil, fmt.Errorf("localfs: %w", err)
	}
	if err := s.Ping(context.Background()); err != nil {
		return nil, err
	}
	return s, nil
}

// Root is the directory the store lives in.
func (s *Store) Root() string { return s.root }

func (s *Store) tmpDir() string { return filepath.Join(s.root, "tmp") }

// path maps a valid key to its file; the key was checked by blob.CheckKey,
// so no segment can climb out of the root.
func (s *Store) path(key string) string {
	dir, name := "", key
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		dir, name = key[:i], key[i+1:]
	}
	parts := []string{s.root, filepath.FromSlash(dir)}
	if len(name) >= 4 {
		parts = append(parts, name[0:2], name[2:4])
	}
	return filepath.Join(append(parts, name)...)
}

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (blob.Info, error) {
	const op = "localfs.Put"
	if err := blob.CheckKey(op, key); err != nil {
		return blob.Info{}, err
	}
	f, err := os.CreateTemp(s.tmpDir(), "put-*")
	if err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	n, err := io.Copy(f, ctxReader{ctx, r})
	if err != nil {
		return blob.Info{}, imgmgr.Wrap(op, err)
	}
	if err := f.Sync(); err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	if err := f.Close(); err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	dst := s.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	ok = true
	syncDir(filepath.Dir(dst))
	st, err := os.Stat(dst)
	if err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	return blob.Info{Key: key, Size: n, ModTime: st.ModTime()}, nil
}

// Adopt moves the complete file at path into the store under key: fsync,
// then rename. A file on another filesystem is copied through Put instead.
func (s *Store) Adopt(ctx context.Context, key, path string) (blob.Info, error) {
	const op = "localfs.Adopt"
	if err := blob.CheckKey(op, key); err != nil {
		return blob.Info{}, err
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	dst := s.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	if err := os.Rename(path, dst); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) && errors.Is(le.Err, syscall.EXDEV) {
			info, err := s.Put(ctx, key, f)
			if err == nil {
				os.Remove(path)
			}
			return info, err
		}
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	syncDir(filepath.Dir(dst))
	st, err := f.Stat()
	if err != nil {
		return blob.Info{}, imgmgr.Internal(op, err)
	}
	return blob.Info{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// syncDir makes a rename durable; failure only weakens durability.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// Open returns the file of key for ranged reads (io.ReadSeeker); the caller
// closes it. It is the optional ability delivery uses with http.ServeContent.
func (s *Store) Open(ctx context.Context, key string) (*os.File, blob.Info, error) {
	const op = "localfs.Open"
	if err := blob.CheckKey(op, key); err != nil {
		return nil, blob.Info{}, err
	}
	f, err := os.Open(s.path(key))
	if err != nil {
		return nil, blob.Info{}, notFound(op, err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, blob.Info{}, notRegular(op, err)
	}
	return f, blob.Info{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Get implements blob.Store.
func (s *Store) Get(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	const op = "localfs.Get"
	f, info, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	if offset < 0 || offset > info.Size {
		f.Close()
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_range", "offset %d outside blob of %d bytes", offset, info.Size)
	}
	if length < 0 || offset+length > info.Size {
		length = info.Size - offset
	}
	return readCloser{io.NewSectionReader(f, offset, length), f}, nil
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	const op = "localfs.Stat"
	if err := blob.CheckKey(op, key); err != nil {
		return blob.Info{}, err
	}
	st, err := os.Stat(s.path(key))
	if err != nil {
		return blob.Info{}, notFound(op, err)
	}
	if !st.Mode().IsRegular() {
		return blob.Info{}, notRegular(op, nil)
	}
	return blob.Info{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Delete implements blob.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	const op = "localfs.Delete"
	if err := blob.CheckKey(op, key); err != nil {
		return err
	}
	p := s.path(key)
	if st, err := os.Lstat(p); err == nil && st.IsDir() {
		return nil // a shard directory of longer keys: no blob has this key
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return imgmgr.Internal(op, err)
	}
	return nil
}

// Ping checks the root is a writable directory.
func (s *Store) Ping(ctx context.Context) error {
	f, err := os.CreateTemp(s.tmpDir(), "ping-*")
	if err != nil {
		return imgmgr.Internal("localfs.Ping", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

func notFound(op string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return &imgmgr.Error{Kind: imgmgr.KindNotFound, Code: "not_found", Op: op, Message: "blob not found"}
	}
	return imgmgr.Internal(op, err)
}

// notRegular reports a path that is not a blob file: a failed Stat is
// internal; a directory (the shard directory of longer keys) is not found.
func notRegular(op string, err error) error {
	if err != nil {
		return imgmgr.Internal(op, err)
	}
	return notFound(op, fs.ErrNotExist)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// ctxReader stops a copy once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
