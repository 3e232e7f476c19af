package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
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

// With staging and originals in one S3, a completed tus upload's original
// is made by a server-side copy of the staged objects (the sealed parts
// and the rest past them), not by sending its bytes to S3 again: the blob
// is a composition of two parts (ETag "…-2"; a Put of 12 MiB is one PUT),
// byte for byte the upload, under the SHA-256 ingest computed.
func TestS3StagingCopiesTheOriginal(t *testing.T) {
	srv := testenv.S3Server(t)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "e2e-copy-" + hex.EncodeToString(b) + "/"
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	photo := padJPEG(testenv.ReadImage(t, "photo/concert.jpg"), 12<<20)
	key := prefix + blob.OriginalKey(sha(photo))
	t.Cleanup(func() {
		ctx := context.Background()
		for o := range c.ListObjects(ctx, srv.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
			c.RemoveObject(ctx, srv.Bucket, o.Key, minio.RemoveObjectOptions{})
		}
	})
	ts := startServer(t, func(cfg *config.Config) {
		cfg.Storage = config.Storage{Backend: "s3", S3Endpoint: srv.Endpoint, S3Bucket: srv.Bucket,
			S3AccessKey: srv.AccessKey, S3SecretKey: srv.SecretKey, S3Prefix: prefix}
	})
	resp := ts.do("POST", "/api/v1/uploads/", ts.token, nil, map[string]string{"Tus-Resumable": "1.0.0",
		"Upload-Length": strconv.Itoa(len(photo)), "Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte("c.jpg"))})
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 201 || err != nil {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	for _, r := range [][2]int{{0, 9 << 20}, {9 << 20, len(photo)}} {
		resp = ts.do("PATCH", loc.Path, ts.token, bytes.NewReader(photo[r[0]:r[1]]), map[string]string{"Tus-Resumable": "1.0.0",
			"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(r[0])})
		resp.Body.Close()
		if resp.StatusCode != 204 {
			t.Fatalf("PATCH at %d: %d", r[0], resp.StatusCode)
		}
	}
	if resp.Header.Get("Upload-Image-Id") == "" {
		t.Fatal("the last PATCH gave no image id")
	}
	st, err := c.StatObject(context.Background(), srv.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(len(photo)) || !strings.HasSuffix(st.ETag, "-2") {
		t.Errorf("original: %d bytes, ETag %s; want %d bytes composed of 2 parts", st.Size, st.ETag, len(photo))
	}
	obj, err := c.GetObject(context.Background(), srv.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	if got, err := io.ReadAll(obj); err != nil || sha(got) != sha(photo) {
		t.Fatalf("original differs from the upload (%d bytes, err %v)", len(got), err)
	}
}

// padJPEG makes a valid JPEG of n bytes: jpeg with comment segments of
// noise inserted after its SOI marker.
func padJPEG(jpeg []byte, n int) []byte {
	out := append([]byte(nil), jpeg[:2]...)
	for left := n - len(jpeg); left > 0; {
		k := min(65533, left-4)
		if rest := left - 4 - k; rest > 0 && rest < 5 {
			k -= 5
		}
		seg := make([]byte, k)
		rand.Read(seg)
		out = append(append(out, 0xff, 0xfe, byte((k+2)>>8), byte(k+2)), seg...)
		left -= k + 4
	}
	return append(out, jpeg[2:]...)
}
