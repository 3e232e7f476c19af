package tus_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/staging/s3stage"
	"github.com/imgmgr/imgmgr/upload/tus"
)

// s3Replicas starts n tus handlers, each with a staging store of its own
// over one prefix of the real S3 server (as replicas behind a load
// balancer), sharing one ingest double. The env sends to the first.
func s3Replicas(t *testing.T, n int) (*env, []*httptest.Server) {
	t.Helper()
	srv := testenv.S3Server(t)
	b := make([]byte, 6)
	rand.Read(b)
	cfg := s3stage.Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Prefix: "tus-test-" + hex.EncodeToString(b) + "/", PartSize: 5 << 20}
	e := &env{t: t, ingest: &fakeIngest{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var srvs []*httptest.Server
	for range n {
		store, err := s3stage.New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { removeAll(store) })
		h, err := tus.New(context.Background(), tus.Config{}, tus.Deps{Store: store, Ingest: e.ingest, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(imgmgr.WithPrincipal(r.Context(), imgmgr.Principal{UserID: r.Header.Get("X-Test-User")}))
			if err := h.Serve(w, r); err != nil {
				httpapi.WriteError(w, r, log, err)
			}
		}))
		t.Cleanup(s.Close)
		srvs = append(srvs, s)
	}
	e.srv = srvs[0]
	return e, srvs
}

// removeAll deletes every upload of a store (its multipart uploads too).
func removeAll(s *s3stage.Store) {
	ctx := context.Background()
	var ids []string
	s.List(ctx, func(u staging.Upload) error { ids = append(ids, u.ID); return nil })
	for _, id := range ids {
		s.Delete(ctx, id)
	}
}

// on rewrites an upload URL of one replica to another.
func on(srv *httptest.Server, url string) string {
	return srv.URL + url[strings.Index(url, "/api/"):]
}

// Issue 9: with the S3 staging store, a PATCH on another replica continues
// the upload (it answered 404 with local staging), across part boundaries
// and through completion, and a retryable ingest failure keeps the last
// byte outstanding for a retry on yet another replica.
func TestS3StagingAcrossReplicas(t *testing.T) {
	e, srvs := s3Replicas(t, 3)
	data := payload(13<<20 + 5)
	u := e.create(int64(len(data)))
	cuts := []int{0, 3 << 20, 9<<20 + 17, len(data)}
	for i := range 2 {
		resp := e.patch(on(srvs[i], u), int64(cuts[i]), data[cuts[i]:cuts[i+1]])
		wantStatus(t, resp, http.StatusNoContent)
		wantHeader(t, e.head(on(srvs[(i+1)%3], u)), "Upload-Offset", strconv.Itoa(cuts[i+1]))
	}
	e.ingest.fail = append(e.ingest.fail, errBusy())
	wantStatus(t, e.patch(on(srvs[2], u), int64(cuts[2]), data[cuts[2]:]), http.StatusServiceUnavailable)
	wantHeader(t, e.head(on(srvs[0], u)), "Upload-Offset", strconv.Itoa(len(data)-1))
	resp := e.patch(on(srvs[1], u), int64(len(data)-1), data[len(data)-1:])
	wantStatus(t, resp, http.StatusNoContent)
	wantHeader(t, resp, "Upload-Image-Id", "img1")
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
	wantHeader(t, e.head(on(srvs[2], u)), "Upload-Offset", strconv.Itoa(len(data)))
}

// Partial uploads sent to different replicas concatenate on a third; the
// parts (one shorter than S3's 5 MiB part minimum) are then freed.
func TestS3StagingConcatenationAcrossReplicas(t *testing.T) {
	e, srvs := s3Replicas(t, 3)
	data := payload(11<<20 + 3)
	cuts := []int{0, 6 << 20, 7 << 20, len(data)}
	var urls []string
	for i := range 3 {
		u := on(srvs[i], e.create(int64(cuts[i+1]-cuts[i]), "Upload-Concat", "partial"))
		wantStatus(t, e.patch(u, 0, data[cuts[i]:cuts[i+1]]), http.StatusNoContent)
		urls = append(urls, u)
	}
	final := "final;" + strings.Join(urls, " ")
	resp := e.do("POST", on(srvs[2], e.url("/api/v1/uploads/")), nil, "Upload-Concat", final, "Upload-Metadata", "filename "+b64("p.jpg"))
	wantStatus(t, resp, http.StatusCreated)
	wantHeader(t, resp, "Upload-Image-Id", "img1")
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("the concatenation differs from the parts in order")
	}
	for _, u := range urls {
		wantStatus(t, e.head(on(srvs[0], u)), http.StatusNotFound)
	}
}

// The tus sweep also runs the store's abandon sweep: a multipart upload
// that no record names (a writer that died before recording it) is aborted
// once old, and the upload's own one is kept.
func TestS3StagingSweepAbortsAbandoned(t *testing.T) {
	srv := testenv.S3Server(t)
	ctx := context.Background()
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "tus-test-" + hex.EncodeToString(b) + "/"
	store, err := s3stage.New(ctx, s3stage.Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey, Prefix: prefix, PartSize: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeAll(store) })
	u := staging.Upload{ID: "sweep1", OwnerID: "alice", Length: 20 << 20, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(48 * time.Hour)}
	if err := store.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	w, err := store.NewWriter(ctx, u.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(payload(6 << 20))
	if err := w.Commit(6 << 20); err != nil {
		t.Fatal(err)
	}
	w.Close()
	c, err := minio.New(srv.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	raw, key := minio.Core{Client: c}, prefix+u.ID+".bin"
	stray, err := raw.NewMultipartUpload(ctx, srv.Bucket, key, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	later := func() time.Time { return time.Now().Add(2 * time.Hour) } // past s3stage's AbandonAfter, before expiry
	h, err := tus.New(ctx, tus.Config{}, tus.Deps{Store: store, Ingest: &fakeIngest{}, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := raw.ListMultipartUploads(ctx, srv.Bucket, key, "", "", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Uploads) != 1 || res.Uploads[0].UploadID == stray {
		t.Fatalf("multipart uploads after the sweep: %+v, want the recorded one only", res.Uploads)
	}
}
