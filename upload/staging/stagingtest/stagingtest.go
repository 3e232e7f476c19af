// Package stagingtest is the conformance suite every staging.Store runs.
package stagingtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/staging"
)

// Run checks the contract of the stores that newStore returns; each call
// must return an empty store.
func Run(t *testing.T, newStore func(t *testing.T) staging.Store) {
	t.Run("CreateGet", func(t *testing.T) { testCreateGet(t, newStore(t)) })
	t.Run("WriteCommit", func(t *testing.T) { testWriteCommit(t, newStore(t)) })
	t.Run("CloseDropsUncommitted", func(t *testing.T) { testCloseDrops(t, newStore(t)) })
	t.Run("WriterAtWrongOffset", func(t *testing.T) { testWrongOffset(t, newStore(t)) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, newStore(t)) })
	t.Run("Concat", func(t *testing.T) { testConcat(t, newStore(t)) })
	t.Run("DeleteAndList", func(t *testing.T) { testDeleteList(t, newStore(t)) })
}

var ctx = context.Background()

func newUpload(t *testing.T, s staging.Store, id string, length int64) staging.Upload {
	t.Helper()
	u := staging.Upload{ID: id, OwnerID: "u1", Length: length, Metadata: "filename YS5qcGc=",
		CreatedAt: time.Now().UTC().Truncate(time.Second), ExpiresAt: time.Now().Add(time.Hour).UTC().Truncate(time.Second)}
	if err := s.Create(ctx, u); err != nil {
		t.Fatalf("Create(%s): %v", id, err)
	}
	return u
}

func wantKind(t *testing.T, err error, k imgmgr.Kind) {
	t.Helper()
	if err == nil || imgmgr.KindOf(err) != k {
		t.Fatalf("error %v, want kind %v", err, k)
	}
}

// write appends p at offset and commits it.
func write(t *testing.T, s staging.Store, id string, offset int64, p []byte) {
	t.Helper()
	w, err := s.NewWriter(ctx, id, offset)
	if err != nil {
		t.Fatalf("NewWriter(%s, %d): %v", id, offset, err)
	}
	defer w.Close()
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(w.Offset()); err != nil {
		t.Fatal(err)
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

func testCreateGet(t *testing.T, s staging.Store) {
	u := newUpload(t, s, "a1", 10)
	got, err := s.Get(ctx, "a1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset != 0 || got.Length != 10 || got.OwnerID != "u1" || got.Metadata != u.Metadata || !got.ExpiresAt.Equal(u.ExpiresAt) {
		t.Fatalf("Get = %+v, want %+v", got, u)
	}
	wantKind(t, s.Create(ctx, u), imgmgr.KindConflict)
	_, err = s.Get(ctx, "missing")
	wantKind(t, err, imgmgr.KindNotFound)
	_, err = s.Get(ctx, "../etc/passwd")
	wantKind(t, err, imgmgr.KindNotFound)
}

func testWriteCommit(t *testing.T, s staging.Store) {
	newUpload(t, s, "w1", 11)
	write(t, s, "w1", 0, []byte("hello"))
	write(t, s, "w1", 5, []byte(" world"))
	got, err := s.Get(ctx, "w1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Offset != 11 || !got.Done() {
		t.Fatalf("offset %d done %v, want 11 true", got.Offset, got.Done())
	}
	if b := content(t, s, "w1"); string(b) != "hello world" {
		t.Fatalf("content %q", b)
	}
}

func testCloseDrops(t *testing.T, s staging.Store) {
	newUpload(t, s, "c1", 100)
	w, err := s.NewWriter(ctx, "c1", 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abc"))
	if err := w.Commit(2); err != nil { // acknowledge part of what was written
		t.Fatal(err)
	}
	w.Write([]byte("def"))
	if w.Offset() != 6 {
		t.Fatalf("Offset() = %d, want 6", w.Offset())
	}
	if err := w.Commit(7); err == nil {
		t.Fatal("Commit past the written bytes succeeded")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, "c1")
	if got.Offset != 2 {
		t.Fatalf("offset after Close = %d, want 2", got.Offset)
	}
	write(t, s, "c1", 2, []byte("XY"))
	if b := content(t, s, "c1"); string(b) != "abXY" {
		t.Fatalf("content %q, want abXY", b)
	}
}

func testWrongOffset(t *testing.T, s staging.Store) {
	newUpload(t, s, "o1", 10)
	write(t, s, "o1", 0, []byte("12345"))
	for _, off := range []int64{0, 4, 6} {
		_, err := s.NewWriter(ctx, "o1", off)
		wantKind(t, err, imgmgr.KindConflict)
	}
	_, err := s.NewWriter(ctx, "nope", 0)
	wantKind(t, err, imgmgr.KindNotFound)
}

func testUpdate(t *testing.T, s staging.Store) {
	newUpload(t, s, "u1", -1)
	write(t, s, "u1", 0, []byte("xyz"))
	got, err := s.Update(ctx, "u1", func(u *staging.Upload) error {
		u.Length, u.Offset, u.ID = 3, 99, "other"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "u1" || got.Length != 3 || got.Offset != 3 {
		t.Fatalf("Update = %+v", got)
	}
	boom := errors.New("boom")
	if _, err := s.Update(ctx, "u1", func(u *staging.Upload) error { u.Length = 7; return boom }); err != boom {
		t.Fatalf("Update error %v, want fn's error", err)
	}
	if got, _ := s.Get(ctx, "u1"); got.Length != 3 {
		t.Fatalf("a failed Update changed the record: %+v", got)
	}
	_, err = s.Update(ctx, "missing", func(*staging.Upload) error { return nil })
	wantKind(t, err, imgmgr.KindNotFound)
}

func testConcat(t *testing.T, s staging.Store) {
	parts := []string{"p1", "p2", "p3"}
	var want []byte
	for i, id := range parts {
		p := bytes.Repeat([]byte{byte('a' + i)}, 1000*(i+1))
		newUpload(t, s, id, int64(len(p)))
		write(t, s, id, 0, p)
		want = append(want, p...)
	}
	newUpload(t, s, "f1", int64(len(want)))
	if err := s.Concat(ctx, "f1", parts); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, "f1")
	if got.Offset != int64(len(want)) {
		t.Fatalf("final offset %d, want %d", got.Offset, len(want))
	}
	if b := content(t, s, "f1"); !bytes.Equal(b, want) {
		t.Fatal("final content differs from the parts in order")
	}
	if b := content(t, s, "p2"); len(b) != 2000 {
		t.Fatalf("a part changed: %d bytes", len(b))
	}
}

func testDeleteList(t *testing.T, s staging.Store) {
	for i := range 3 {
		newUpload(t, s, fmt.Sprintf("d%d", i), 4)
		write(t, s, fmt.Sprintf("d%d", i), 0, []byte("data"))
	}
	if err := s.DeleteData(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "d1"); err != nil {
		t.Fatalf("record gone after DeleteData: %v", err)
	}
	if err := s.Delete(ctx, "d2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "d2"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	_, err := s.Get(ctx, "d2")
	wantKind(t, err, imgmgr.KindNotFound)
	seen := map[string]int64{}
	if err := s.List(ctx, func(u staging.Upload) error { seen[u.ID] = u.Offset; return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen["d0"] != 4 {
		t.Fatalf("List saw %v, want d0 (offset 4) and d1", seen)
	}
	stop := errors.New("stop")
	if err := s.List(ctx, func(staging.Upload) error { return stop }); err != stop {
		t.Fatalf("List returned %v, want fn's error", err)
	}
}
