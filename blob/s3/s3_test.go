package s3

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgmgr/imgmgr/blob/blobtest"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

func TestConformance(t *testing.T) {
	srv := testenv.S3Server(t)
	ctx := context.Background()
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := c.BucketExists(ctx, srv.Bucket); err != nil {
		t.Fatal(err)
	} else if !ok {
		if err := c.MakeBucket(ctx, srv.Bucket, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
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
