package s3stage_test

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/staging/s3stage"
	"github.com/imgmgr/imgmgr/upload/staging/stagingtest"
)

var ctx = context.Background()

const mib = 1 << 20

// bucket is the test MinIO, a raw client on it and a prefix of this test's
// own, whose objects and multipart uploads are removed when the test ends.
type bucket struct {
	srv    testenv.S3
	raw    minio.Core
	prefix string
}

func newBucket(t *testing.T) *bucket {
	t.Helper()
	c, srv := testenv.S3Client(t)
	b := make([]byte, 6)
	crand.Read(b)
	bk := &bucket{srv: srv, raw: minio.Core{Client: c}, prefix: "s3stage-test-" + hex.EncodeToString(b) + "/"}
	t.Cleanup(bk.clean)
	return bk
}

// clean aborts the multipart uploads of every object name under the prefix
// (MinIO lists them per name only) and removes the objects.
func (b *bucket) clean() {
	for o := range b.raw.Client.ListObjects(ctx, b.srv.Bucket, minio.ListObjectsOptions{Prefix: b.prefix, Recursive: true}) {
		b.raw.RemoveObject(ctx, b.srv.Bucket, o.Key, minio.RemoveObjectOptions{})
		if id, ok := bytes.CutSuffix([]byte(o.Key), []byte(".info")); ok {
			b.abortAll(string(id) + ".bin")
		}
	}
}

func (b *bucket) abortAll(key string) {
	for up := range b.raw.Client.ListIncompleteUploads(ctx, b.srv.Bucket, key, false) {
		if up.Key == key {
			b.raw.AbortMultipartUpload(ctx, b.srv.Bucket, key, up.UploadID)
		}
	}
}

// uploads lists the multipart uploads of an upload's data object.
func (b *bucket) uploads(t *testing.T, id string) []string {
	t.Helper()
	key := b.prefix + id + ".bin"
	res, err := b.raw.ListMultipartUploads(ctx, b.srv.Bucket, key, "", "", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, up := range res.Uploads {
		if up.Key == key {
			ids = append(ids, up.UploadID)
		}
	}
	return ids
}

func (b *bucket) objects(t *testing.T) []string {
	t.Helper()
	var keys []string
	for o := range b.raw.Client.ListObjects(ctx, b.srv.Bucket, minio.ListObjectsOptions{Prefix: b.prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key[len(b.prefix):])
	}
	return keys
}

func (b *bucket) config() s3stage.Config {
	return s3stage.Config{Endpoint: b.srv.Endpoint, Bucket: b.srv.Bucket, AccessKey: b.srv.AccessKey,
		SecretKey: b.srv.SecretKey, Prefix: b.prefix, PartSize: 5 * mib}
}

// store opens a Store on the bucket's prefix: each call is another replica.
func (b *bucket) store(t *testing.T) *s3stage.Store {
	t.Helper()
	s, err := s3stage.New(ctx, b.config())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	stagingtest.Run(t, func(t *testing.T) staging.Store { return newBucket(t).store(t) })
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []s3stage.Config{
		{},
		{Endpoint: "x:9000"},
		{Endpoint: "x:9000", Bucket: "b", PartSize: 4 * mib},
		{Endpoint: "x:9000", Bucket: "b", PartSize: 128 * mib},
		{Endpoint: "x:9000", Bucket: "b", Concurrency: -1},
		{Endpoint: "x:9000", Bucket: "b", Prefix: "/abs"},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v validated", c)
		}
	}
	if err := (s3stage.Config{Endpoint: "x:9000", Bucket: "b"}).Validate(); err != nil {
		t.Fatal(err)
	}
}

// randomBytes returns n bytes that do not repeat, so that a misplaced
// piece shows.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)})
	r.Read(b)
	return b
}

func create(t *testing.T, s staging.Store, id string, length int64) {
	t.Helper()
	u := staging.Upload{ID: id, OwnerID: "u1", Length: length, CreatedAt: time.Now().UTC(), ExpiresAt: time.Now().Add(time.Hour).UTC()}
	if err := s.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
}

func writer(t *testing.T, s staging.Store, id string, offset int64) staging.Writer {
	t.Helper()
	w, err := s.NewWriter(ctx, id, offset)
	if err != nil {
		t.Fatalf("NewWriter(%s, %d): %v", id, offset, err)
	}
	return w
}

func mustWrite(t *testing.T, w staging.Writer, p []byte) {
	t.Helper()
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
}

func mustCommit(t *testing.T, w staging.Writer, offset int64) {
	t.Helper()
	if err := w.Commit(offset); err != nil {
		t.Fatalf("Commit(%d): %v", offset, err)
	}
}

func content(t *testing.T, s staging.Store, id string) []byte {
	t.Helper()
	rc, err := s.Open(ctx, id)
	if err != nil {
		t.Fatalf("Open(%s): %v", id, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func offsetOf(t *testing.T, s staging.Store, id string) int64 {
	t.Helper()
	u, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return u.Offset
}

func wantKind(t *testing.T, err error, k imgmgr.Kind) {
	t.Helper()
	if err == nil || imgmgr.KindOf(err) != k {
		t.Fatalf("error %v, want kind %v", err, k)
	}
}
