package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgmgr/imgmgr"
)

func TestSpool(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name           string
		size, mem, max int64
		file           bool
		code           string
	}{
		{"memory", 1000, 4096, 10000, false, ""},
		{"exactly memory", 4096, 4096, 10000, false, ""},
		{"file", 9000, 4096, 10000, true, ""},
		{"at limit", 10000, 4096, 10000, true, ""},
		{"over limit in file", 10001, 4096, 10000, false, "file_too_large"},
		{"over limit in memory", 101, 4096, 100, false, "file_too_large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := bytes.Repeat([]byte("abcdefghij"), int(c.size/10+1))[:c.size]
			sp, err := spool(bytes.NewReader(data), dir, c.mem, c.max)
			if c.code != "" {
				if imgmgr.CodeOf(err) != c.code {
					t.Fatalf("err = %v, want %s", err, c.code)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				sum := sha256.Sum256(data)
				if sp.sha256 != hex.EncodeToString(sum[:]) || sp.size != c.size || (sp.file != nil) != c.file {
					t.Fatalf("spooled %+v", sp)
				}
				r, _ := sp.Reader()
				got, _ := io.ReadAll(r)
				if !bytes.Equal(got, data) || !bytes.Equal(sp.head, data[:min(len(data), SniffLen)]) {
					t.Fatal("content differs")
				}
				sp.Close()
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("%d temp files left", len(left))
			}
		})
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection reset")
	}
	n := min(len(p), f.n)
	f.n -= n
	return n, nil
}

func TestSpoolBrokenStreamLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	_, err := spool(&failingReader{n: 100_000}, dir, 1024, 1<<20)
	if imgmgr.CodeOf(err) != "upload_interrupted" || imgmgr.KindOf(err) != imgmgr.KindInvalid {
		t.Fatalf("err = %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("%d temp files left", len(left))
	}
}

// Regression: spool reported every io.Copy error as the client's broken
// stream (400 upload_interrupted, and the multipart request stopped), so a
// full disk or any failed write of the temp file looked like a bad client.
// A failed write is an internal error; the temp file still goes.
func TestSpoolWriteFailureIsInternal(t *testing.T) {
	dir := t.TempDir()
	readOnly := func() (*os.File, error) {
		name := filepath.Join(dir, "ingest-readonly")
		if err := os.WriteFile(name, nil, 0o600); err != nil {
			return nil, err
		}
		return os.Open(name) // writes fail with EBADF
	}
	data := bytes.Repeat([]byte("x"), 10_000)
	_, err := spoolWith(bytes.NewReader(data), readOnly, 1024, 1<<20)
	if err == nil || imgmgr.KindOf(err) != imgmgr.KindInternal {
		t.Fatalf("err = %v (kind %v), want an internal error", err, imgmgr.KindOf(err))
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("%d temp files left", len(left))
	}
}

func TestNormalize(t *testing.T) {
	req, err := normalize(Request{Filename: "C:\\Users\\x\\..\\ph\x00oto.jpg", Title: "  Hi\x07 ", Tags: []string{" A", "a", "", "b"}})
	if err != nil || req.Filename != "photo.jpg" || req.Title != "Hi" || len(req.Tags) != 2 || req.Visibility != imgmgr.Private {
		t.Fatalf("normalize = %+v, %v", req, err)
	}
	if _, err := normalize(Request{Visibility: "secret"}); imgmgr.CodeOf(err) != "invalid_visibility" {
		t.Fatalf("bad visibility: %v", err)
	}
	if _, err := NormalizeTags([]string{string(bytes.Repeat([]byte("x"), 65))}); imgmgr.CodeOf(err) != "invalid_tag" {
		t.Fatalf("long tag: %v", err)
	}
}
