// Package blobtest is the conformance suite every blob.Store passes,
// the way fstest.TestFS checks an fs.FS.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
)

// Run checks s against the blob.Store contract. s must be empty of the keys
// under "test/" when Run starts.
func Run(t *testing.T, s blob.Store) {
	for _, c := range []struct {
		name string
		test func(*testing.T, blob.Store)
	}{
		{"PutGetStat", testPutGetStat},
		{"Ranges", testRanges},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"KeyPrefixOfAnother", testKeyPrefixOfAnother},
		{"Seeker", testSeeker},
		{"BadKeys", testBadKeys},
		{"FailedPutLeavesNothing", testFailedPutLeavesNothing},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"Ping", testPing},
	} {
		t.Run(c.name, func(t *testing.T) { c.test(t, s) })
	}
}

func testPutGetStat(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := randomBytes(t, 300_000)
	info, err := s.Put(ctx, "test/abcdef0123", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) {
		t.Fatalf("Put size = %d, want %d", info.Size, len(data))
	}
	if got := read(t, s, "test/abcdef0123", 0, -1); !bytes.Equal(got, data) {
		t.Fatal("Get returned different bytes")
	}
	st, err := s.Stat(ctx, "test/abcdef0123")
	if err != nil || st.Size != int64(len(data)) {
		t.Fatalf("Stat = %+v, %v", st, err)
	}
}

func testRanges(t *testing.T, s blob.Store) {
	data := []byte("0123456789abcdefghij")
	mustPut(t, s, "test/range", data)
	for _, c := range []struct {
		off, n int64
		want   string
	}{{0, 5, "01234"}, {10, -1, "abcdefghij"}, {18, 10, "ij"}, {20, -1, ""}} {
		if got := read(t, s, "test/range", c.off, c.n); string(got) != c.want {
			t.Errorf("Get(%d,%d) = %q, want %q", c.off, c.n, got, c.want)
		}
	}
}

func testMissing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	if _, err := s.Get(ctx, "test/missing", 0, -1); imgmgr.KindOf(err) != imgmgr.KindNotFound {
		t.Fatalf("Get missing: %v, want NotFound", err)
	}
	if _, err := s.Stat(ctx, "test/missing"); imgmgr.KindOf(err) != imgmgr.KindNotFound {
		t.Fatalf("Stat missing: %v, want NotFound", err)
	}
	if err := s.Delete(ctx, "test/missing"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	ctx := context.Background()
	mustPut(t, s, "test/gone", []byte("x"))
	if err := s.Delete(ctx, "test/gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "test/gone"); imgmgr.KindOf(err) != imgmgr.KindNotFound {
		t.Fatalf("after Delete: %v", err)
	}
}

func testKeyPrefixOfAnother(t *testing.T, s blob.Store) {
	ctx := context.Background()
	// Regression (localfs): a short key maps onto the shard directory
	// of a longer one ("test/dirs/ab" onto the "ab" of "test/dirs/abcdef");
	// Stat reported the directory as a blob and Delete failed on it.
	mustPut(t, s, "test/dirs/abcdef", []byte("x"))
	if _, err := s.Stat(ctx, "test/dirs/ab"); imgmgr.KindOf(err) != imgmgr.KindNotFound {
		t.Errorf("Stat of a key never put: %v, want NotFound", err)
	}
	if _, err := s.Get(ctx, "test/dirs/ab", 0, -1); imgmgr.KindOf(err) != imgmgr.KindNotFound {
		t.Errorf("Get of a key never put: %v, want NotFound", err)
	}
	if err := s.Delete(ctx, "test/dirs/ab"); err != nil {
		t.Errorf("Delete of a key never put: %v", err)
	}
	if got := read(t, s, "test/dirs/abcdef", 0, -1); string(got) != "x" {
		t.Errorf("the longer key now reads %q", got)
	}
}

func testBadKeys(t *testing.T, s blob.Store) {
	ctx := context.Background()
	for _, k := range []string{"", "../etc/passwd", "test/../../x", "/abs", "test//x", "Test/UP", "test/.hidden", "a\\b", "test/x\x00"} {
		if _, err := s.Put(ctx, k, strings.NewReader("x")); imgmgr.KindOf(err) != imgmgr.KindInvalid {
			t.Errorf("Put(%q) = %v, want Invalid", k, err)
		}
		if _, err := s.Get(ctx, k, 0, -1); imgmgr.KindOf(err) != imgmgr.KindInvalid {
			t.Errorf("Get(%q) = %v, want Invalid", k, err)
		}
	}
}

func testFailedPutLeavesNothing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	r := io.MultiReader(bytes.NewReader(randomBytes(t, 100_000)), errReader{})
	if _, err := s.Put(ctx, "test/failed", r); err == nil {
		t.Fatal("Put with failing reader succeeded")
	}
	if _, err := s.Stat(ctx, "test/failed"); imgmgr.KindOf(err) != imgmgr.KindNotFound {
		t.Fatalf("failed Put left a blob: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Put(cctx, "test/cancelled", bytes.NewReader(randomBytes(t, 1000))); err == nil {
		t.Fatal("Put with cancelled context succeeded")
	}
	if _, err := s.Stat(ctx, "test/cancelled"); imgmgr.KindOf(err) != imgmgr.KindNotFound {
		t.Fatalf("cancelled Put left a blob: %v", err)
	}
}

func testConcurrentSameKey(t *testing.T, s blob.Store) {
	ctx := context.Background()
	data := randomBytes(t, 200_000)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Put(ctx, "test/same", bytes.NewReader(data)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := read(t, s, "test/same", 0, -1); !bytes.Equal(got, data) {
		t.Fatal("concurrent Puts of one key corrupted it")
	}
}

func testPing(t *testing.T, s blob.Store) {
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken reader") }

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func mustPut(t *testing.T, s blob.Store, key string, data []byte) {
	t.Helper()
	if _, err := s.Put(context.Background(), key, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, s blob.Store, key string, off, n int64) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key, off, n)
	if err != nil {
		t.Fatalf("Get(%s,%d,%d): %v", key, off, n, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testSeeker checks blob.OpenSeeker over s, as http.ServeContent uses it
// for ranged originals. Regression: the ranged-Get reader of stores that
// are not Openers (s3) took an unknown whence for io.SeekStart.
func testSeeker(t *testing.T, s blob.Store) {
	data := []byte("0123456789abcdefghij")
	mustPut(t, s, "test/seek", data)
	rs, info, err := blob.OpenSeeker(context.Background(), s, "test/seek")
	if err != nil || info.Size != int64(len(data)) {
		t.Fatalf("OpenSeeker = %+v, %v", info, err)
	}
	defer rs.Close()
	if n, err := rs.Seek(0, io.SeekEnd); n != int64(len(data)) || err != nil {
		t.Fatalf("Seek(0, End) = %d, %v", n, err)
	}
	for _, c := range []struct {
		off    int64
		whence int
		n      int
		want   string
	}{{10, io.SeekStart, 5, "abcde"}, {2, io.SeekCurrent, 3, "hij"}, {-20, io.SeekEnd, 4, "0123"}, {0, io.SeekStart, 2, "01"}} {
		if _, err := rs.Seek(c.off, c.whence); err != nil {
			t.Fatalf("Seek(%d, %d): %v", c.off, c.whence, err)
		}
		b := make([]byte, c.n)
		if _, err := io.ReadFull(rs, b); err != nil || string(b) != c.want {
			t.Fatalf("after Seek(%d, %d) read %q, %v; want %q", c.off, c.whence, b, err, c.want)
		}
	}
	if _, err := rs.Seek(0, 42); err == nil {
		t.Error("Seek with an unknown whence succeeded")
	}
	if _, err := rs.Seek(-1, io.SeekStart); err == nil {
		t.Error("Seek to a negative position succeeded")
	}
}
