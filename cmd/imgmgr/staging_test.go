package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// With storage.backend s3 and upload.staging_backend left empty, tus
// uploads are staged in the bucket under upload.staging_s3_prefix (issue
// 9: replicas share them), not in the data dir, and complete through
// ingest.
func TestS3StagingFollowsS3Storage(t *testing.T) {
	srv := testenv.S3Server(t)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "e2e-staging-" + hex.EncodeToString(b) + "/"
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	staged := func() []string {
		var keys []string
		for o := range c.ListObjects(context.Background(), srv.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			keys = append(keys, strings.TrimPrefix(o.Key, prefix))
		}
		return keys
	}
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	t.Cleanup(func() {
		ctx := context.Background()
		for _, k := range staged() {
			c.RemoveObject(ctx, srv.Bucket, prefix+k, minio.RemoveObjectOptions{})
		}
		c.RemoveObject(ctx, srv.Bucket, blob.OriginalKey(sha(photo)), minio.RemoveObjectOptions{})
	})
	ts := startServer(t, func(cfg *config.Config) {
		cfg.Storage = config.Storage{Backend: "s3", S3Endpoint: srv.Endpoint, S3Bucket: srv.Bucket,
			S3AccessKey: srv.AccessKey, S3SecretKey: srv.SecretKey}
		cfg.Upload.StagingS3Prefix = prefix
	})

	tus := map[string]string{"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
	resp := ts.do("POST", "/api/v1/uploads/", ts.token, nil, map[string]string{"Tus-Resumable": "1.0.0",
		"Upload-Length": strconv.Itoa(len(photo)), "Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte("c.jpg"))})
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 201 || err != nil {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	id := pathBase(loc.Path)
	half := len(photo) / 2
	tus["Upload-Offset"] = "0"
	resp = ts.do("PATCH", loc.Path, ts.token, bytes.NewReader(photo[:half]), tus)
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("first PATCH: %d", resp.StatusCode)
	}
	if keys := staged(); !slices.Contains(keys, id+".info") || !slices.Contains(keys, id+".state") {
		t.Fatalf("staged objects %v, want %s.info and .state", keys, id)
	}
	if entries, _ := os.ReadDir(filepath.Join(ts.dir, "staging")); len(entries) > 0 {
		t.Fatalf("local staging used too: %d entries", len(entries))
	}
	tus["Upload-Offset"] = strconv.Itoa(half)
	resp = ts.do("PATCH", loc.Path, ts.token, bytes.NewReader(photo[half:]), tus)
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Upload-Image-Id") == "" {
		t.Fatalf("last PATCH: %d, image %q", resp.StatusCode, resp.Header.Get("Upload-Image-Id"))
	}
	if keys := staged(); !slices.Equal(keys, []string{id + ".info"}) {
		t.Fatalf("after completion staged %v, want only the record", keys)
	}
}
