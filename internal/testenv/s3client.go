package testenv

import (
	"context"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Client returns a client of the real S3 server (S3Server) whose bucket
// exists, for tests that look at the objects a store wrote.
func S3Client(t testing.TB) (*minio.Client, S3) {
	t.Helper()
	srv := S3Server(t)
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if ok, err := c.BucketExists(ctx, srv.Bucket); err != nil {
		t.Fatal(err)
	} else if !ok {
		if err := c.MakeBucket(ctx, srv.Bucket, minio.MakeBucketOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return c, srv
}
