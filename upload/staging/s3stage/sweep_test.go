package s3stage_test

import (
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/staging/s3stage"
)

// createExpiring creates an upload expiring at exp and commits n bytes,
// which start a multipart upload when n is a part or more.
func createExpiring(t *testing.T, s staging.Store, id string, n int, exp time.Time) {
	t.Helper()
	u := staging.Upload{ID: id, OwnerID: "u1", Length: int64(n) + 1, CreatedAt: time.Now().UTC(), ExpiresAt: exp}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	w := writer(t, s, id, 0)
	mustWrite(t, w, randomBytes(n))
	mustCommit(t, w, int64(n))
	w.Close()
}

// SweepAbandoned aborts the multipart uploads of a deleted record, of an
// expired upload and one that no record names, removes the objects of the
// deleted record, and keeps the live upload and anything young.
func TestSweepAbandoned(t *testing.T) {
	b := newBucket(t)
	s := b.store(t)
	day := time.Now().Add(24 * time.Hour)
	createExpiring(t, s, "live", 6*mib, day)
	createExpiring(t, s, "gone", 6*mib, day)
	createExpiring(t, s, "expired", 6*mib, time.Now().Add(-time.Minute))
	createExpiring(t, s, "small", 100, day) // no multipart upload at all
	if err := b.raw.RemoveObject(ctx, b.srv.Bucket, b.prefix+"gone.info", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err) // a Delete that failed after removing the record
	}
	stray, err := b.raw.NewMultipartUpload(ctx, b.srv.Bucket, b.prefix+"live.bin", minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err) // a writer that died before recording its new upload
	}
	live := b.uploads(t, "live")
	if len(live) != 2 || len(b.uploads(t, "gone")) != 1 || len(b.uploads(t, "expired")) != 1 {
		t.Fatalf("setup: uploads live %v gone %v expired %v", live, b.uploads(t, "gone"), b.uploads(t, "expired"))
	}

	if n, err := s.SweepAbandoned(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("sweep now = %d, %v; want 0 (everything is young)", n, err)
	}
	if len(b.uploads(t, "live")) != 2 || len(b.uploads(t, "gone")) != 1 || len(b.uploads(t, "expired")) != 1 {
		t.Fatal("a young multipart upload was aborted")
	}
	n, err := s.SweepAbandoned(ctx, time.Now().Add(2*time.Hour))
	if err != nil || n != 4 { // gone's upload and objects, the stray and the expired upload
		t.Fatalf("sweep in 2h = %d, %v; want 4", n, err)
	}
	if got := b.uploads(t, "live"); len(got) != 1 || got[0] == stray {
		t.Fatalf("live uploads %v, want the recorded one only (stray %s)", got, stray)
	}
	if len(b.uploads(t, "gone")) != 0 || len(b.uploads(t, "expired")) != 0 {
		t.Fatal("abandoned multipart uploads remain")
	}
	for _, k := range b.objects(t) {
		if strings.HasPrefix(k, "gone.") {
			t.Fatalf("object %s of a deleted upload remains", k)
		}
	}
	if !slices.Contains(b.objects(t), "small.info") {
		t.Fatal("the sweep removed a live upload's record")
	}
	if got := content(t, s, "live"); len(got) != 6*mib {
		t.Fatalf("live upload reads %d bytes", len(got))
	}
}

// Delete aborts the upload's multipart uploads and leaves no object.
func TestDeleteLeavesNothing(t *testing.T) {
	b := newBucket(t)
	s := b.store(t)
	createExpiring(t, s, "d", 11*mib, time.Now().Add(time.Hour))
	if err := s.Delete(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if ups, objs := b.uploads(t, "d"), b.objects(t); len(ups) != 0 || len(objs) != 0 {
		t.Fatalf("after Delete: uploads %v objects %v", ups, objs)
	}
}

// proxy forwards TCP connections to addr until cut, so a test can take S3
// away from a store without stopping the shared MinIO.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, addr string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { io.Copy(up, c); up.Close() }()
			go func() { io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

// cut closes the listener and every forwarded connection.
func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	var e *imgmgr.Error
	if !errors.As(err, &e) || e.Kind != imgmgr.KindUnavailable || e.RetryAfter <= 0 {
		t.Fatalf("%s: error %v, want KindUnavailable with a RetryAfter", what, err)
	}
}

// With S3 unreachable every operation fails with KindUnavailable and a
// RetryAfter (503 for the client), and the last commit is intact after.
func TestUnreachableIsUnavailable(t *testing.T) {
	b := newBucket(t)
	p := newProxy(t, b.srv.Endpoint)
	cfg := b.config()
	cfg.Endpoint, cfg.MaxRetries, cfg.RequestTimeout = p.ln.Addr().String(), 1, 10*time.Second
	s, err := s3stage.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	create(t, s, "u", 20*mib)
	w := writer(t, s, "u", 0)
	defer w.Close()
	mustWrite(t, w, randomBytes(3*mib))
	mustCommit(t, w, 3*mib)
	mustWrite(t, w, randomBytes(1*mib))

	p.cut()
	wantUnavailable(t, "Commit", w.Commit(4*mib))
	_, err = s.Get(ctx, "u")
	wantUnavailable(t, "Get", err)
	_, err = s.NewWriter(ctx, "u", 3*mib)
	wantUnavailable(t, "NewWriter", err)
	_, err = s.Open(ctx, "u")
	wantUnavailable(t, "Open", err)
	wantUnavailable(t, "Create", s.Create(ctx, staging.Upload{ID: "v", Length: 1}))
	wantUnavailable(t, "List", s.List(ctx, func(staging.Upload) error { return nil }))

	if off := offsetOf(t, b.store(t), "u"); off != 3*mib {
		t.Fatalf("offset after the outage %d, want %d", off, 3*mib)
	}
}
