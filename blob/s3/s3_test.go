package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/blobtest"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

func TestConformance(t *testing.T) {
	c, srv := testenv.S3Client(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "run-" + hex.EncodeToString(b) + "/"
	s, err := New(ctx, Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Prefix: prefix, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, s)
	t.Cleanup(func() {
		for o := range c.ListObjects(ctx, srv.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			c.RemoveObject(ctx, srv.Bucket, o.Key, minio.RemoveObjectOptions{})
		}
	})
	if _, err := New(ctx, Config{Endpoint: srv.Endpoint, Bucket: "no-such-bucket-" + hex.EncodeToString(b), AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}); err == nil {
		t.Fatal("New with a missing bucket succeeded")
	}
}

// Put sends its payload unsigned with a CRC32C in its place, which S3
// verifies and keeps: a blob of one part and one of several both carry one.
func TestPutSendsCRC32C(t *testing.T) {
	srv := testenv.S3Server(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	s, err := New(ctx, Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Prefix: "crc-" + hex.EncodeToString(b) + "/", PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1 << 10, 12 << 20} {
		data := make([]byte, n)
		rand.Read(data)
		key := "orig/" + hex.EncodeToString(b) + fmt.Sprint(n)
		if _, err := s.Put(ctx, key, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Delete(ctx, key) })
		st, err := s.c.StatObject(ctx, srv.Bucket, s.name(key), minio.StatObjectOptions{Checksum: true})
		if err != nil {
			t.Fatal(err)
		}
		if st.ChecksumCRC32C == "" {
			t.Errorf("%d bytes: no CRC32C stored", n)
		}
	}
}

// Copy composes objects of the same service server-side, and only while
// they have the ETags the caller read them with: a changed source or one
// in another service is refused and leaves no blob.
func TestCopy(t *testing.T) {
	srv := testenv.S3Server(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "copy-" + hex.EncodeToString(b) + "/"
	s, err := New(ctx, Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for o := range s.c.ListObjects(ctx, srv.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			s.c.RemoveObject(ctx, srv.Bucket, o.Key, minio.RemoveObjectOptions{})
		}
	})
	var srcs []blob.Object
	var want []byte
	for i, n := range []int{5 << 20, 1000} {
		data := make([]byte, n)
		rand.Read(data)
		want = append(want, data...)
		name := prefix + "src" + fmt.Sprint(i)
		info, err := s.c.PutObject(ctx, srv.Bucket, name, bytes.NewReader(data), int64(n), minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, blob.Object{Endpoint: srv.Endpoint, Bucket: srv.Bucket, Key: name, ETag: info.ETag, Size: int64(n)})
	}
	if _, err := s.Copy(ctx, "orig/whole", srcs); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Get(ctx, "orig/whole", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("copied %d bytes (err %v), want the %d of the sources", len(got), err, len(want))
	}
	changed := slices.Clone(srcs)
	changed[1].ETag = "0123456789abcdef0123456789abcdef"
	other := slices.Clone(srcs)
	other[0].Endpoint = "elsewhere:9000"
	for name, srcs := range map[string][]blob.Object{"changed": changed, "elsewhere": other} {
		_, err := s.Copy(ctx, "orig/"+name, srcs)
		if err == nil {
			t.Errorf("%s: copied", name)
		}
		if errors.Is(err, blob.ErrNotCopyable) != (name == "elsewhere") {
			t.Errorf("%s: %v; ErrNotCopyable only for a source elsewhere", name, err)
		}
		if _, err := s.Stat(ctx, "orig/"+name); !imgmgr.IsNotFound(err) {
			t.Errorf("%s: a blob was left (%v)", name, err)
		}
		for up := range s.c.ListIncompleteUploads(ctx, srv.Bucket, s.name("orig/"+name), false) {
			t.Errorf("%s: multipart upload %s left", name, up.UploadID)
		}
	}
}
