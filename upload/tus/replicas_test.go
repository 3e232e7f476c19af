package tus_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/cluster"
	"github.com/imgmgr/imgmgr/events/eventstest"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/upload/tus"
)

// Two replicas over one staging directory, locking through Redis: while one
// receives a PATCH, the other refuses a PATCH to the same upload with 423.
func TestReplicasShareTheUploadLock(t *testing.T) {
	url := testenv.RedisURL(t)
	prefix := eventstest.Unique(t)
	e := newEnv(t, tus.Config{LockStaleAfter: time.Minute})
	newReplica := func() *httptest.Server {
		l, err := openCluster(t, url, prefix).NewUploadLocker(cluster.UploadLockConfig{})
		if err != nil {
			t.Fatal(err)
		}
		h, err := tus.New(context.Background(), tus.Config{LockStaleAfter: time.Minute}, tus.Deps{Store: e.store, Ingest: e.ingest, Locker: l})
		if err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(imgmgr.WithPrincipal(r.Context(), imgmgr.Principal{UserID: r.Header.Get("X-Test-User")}))
			if err := h.Serve(w, r); err != nil {
				httpapi.WriteError(w, r, log, err)
			}
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	a, b := newReplica(), newReplica()
	data := payload(50000)
	e.srv = a
	loc := e.create(int64(len(data)))
	pw, first := e.slowPatch(loc, 0, int64(len(data)))
	pw.Write(data[:1000])
	waitFor(t, func() bool { return e.stagedSize(loc) >= 1000 })

	onB := b.URL + loc[len(a.URL):]
	wantStatus(t, e.patch(onB, 0, data), http.StatusLocked)

	pw.Write(data[1000:])
	pw.Close()
	if s := <-first; s != http.StatusNoContent {
		t.Fatalf("first PATCH: %d", s)
	}
	if e.ingest.lastHash() != sha256hex(data) {
		t.Fatal("ingested bytes differ")
	}
}

// openCluster connects one replica's Redis client.
func openCluster(t *testing.T, url, prefix string) *cluster.Client {
	t.Helper()
	c, err := cluster.Open(context.Background(), cluster.Config{URL: url, Prefix: prefix}, cluster.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
