package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob/localfs"
	"github.com/imgmgr/imgmgr/cluster"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/meta/sqlite"
	"github.com/imgmgr/imgmgr/vips"
)

// With content-address locks shared through Redis and Redis cut off, an
// upload fails fast with KindUnavailable (503 + Retry-After), storing
// nothing, and succeeds again once Redis is back.
func TestStoreWithLockServiceDown(t *testing.T) {
	if err := vips.Startup(vips.Config{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	blobs, err := localfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.RedisProxy(t)
	_, prefix := testenv.RedisClient(t)
	c, err := cluster.Open(ctx, cluster.Config{URL: p.URL(), Prefix: prefix}, cluster.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	locks, err := c.NewKeyLocks(cluster.KeyLocksConfig{})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := ingest.New(ingest.Config{TempDir: t.TempDir()}, ingest.Deps{Meta: store, Blobs: blobs, Locks: locks, Decoder: vips.Decoder{}})
	if err != nil {
		t.Fatal(err)
	}
	u := &imgmgr.User{Username: "alice", Role: imgmgr.RoleUser}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	req := ingest.Request{Owner: imgmgr.Principal{UserID: u.ID, Role: imgmgr.RoleUser}, Filename: "a.jpg"}
	img := testenv.ReadImage(t, "photo/concert.jpg")
	p.Cut()
	start := time.Now()
	_, err = svc.IngestReader(ctx, req, bytes.NewReader(img))
	var e *imgmgr.Error
	if !errors.As(err, &e) || e.Kind != imgmgr.KindUnavailable || e.RetryAfter <= 0 {
		t.Fatalf("ingest with the lock service down: %v, want KindUnavailable with RetryAfter", err)
	}
	t.Logf("ingest refused in %v with the lock service down", time.Since(start))
	if n := countFiles(t, filepath.Join(dir, "blobs")); n != 0 {
		t.Fatalf("%d blobs stored without the lock", n)
	}
	p.Restore()
	for !c.Available() {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := svc.IngestReader(ctx, req, bytes.NewReader(img)); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func countFiles(t *testing.T, dir string) (n int) {
	t.Helper()
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}
