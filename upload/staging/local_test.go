package staging_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/staging/stagingtest"
)

func newLocal(t *testing.T, dir string) *staging.Local {
	t.Helper()
	s, err := staging.NewLocal(staging.LocalConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLocalConformance(t *testing.T) {
	stagingtest.Run(t, func(t *testing.T) staging.Store { return newLocal(t, t.TempDir()) })
}

func TestLocalConfigValidate(t *testing.T) {
	if err := (staging.LocalConfig{}).Validate(); err == nil {
		t.Fatal("an empty directory was accepted")
	}
}

// A store reopened on the same directory (a restart) reports the last
// commit, and the next writer drops bytes written after it.
func TestLocalRestartDropsUncommittedTail(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := newLocal(t, dir)
	if err := s.Create(ctx, staging.Upload{ID: "r1", Length: 10}); err != nil {
		t.Fatal(err)
	}
	w, err := s.NewWriter(ctx, "r1", 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("1234"))
	w.Commit(4)
	w.Write([]byte("junk")) // never committed; the writer is not closed (a crash)

	s2 := newLocal(t, dir)
	u, err := s2.Get(ctx, "r1")
	if err != nil || u.Offset != 4 {
		t.Fatalf("after restart: offset %d, err %v; want 4", u.Offset, err)
	}
	w2, err := s2.NewWriter(ctx, "r1", 4)
	if err != nil {
		t.Fatal(err)
	}
	w2.Write([]byte("567890"))
	w2.Commit(10)
	w2.Close()
	rc, _ := s2.Open(ctx, "r1")
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "1234567890" {
		t.Fatalf("content %q", b)
	}
}

// A torn write of the newest offset slot leaves the previous commit.
func TestLocalTornOffsetSlot(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := newLocal(t, dir)
	s.Create(ctx, staging.Upload{ID: "t1", Length: 10})
	w, _ := s.NewWriter(ctx, "t1", 0)
	w.Write([]byte("abcdef"))
	w.Commit(3) // seq 1 -> slot 1
	w.Commit(6) // seq 2 -> slot 0
	w.Close()
	f, err := os.OpenFile(filepath.Join(dir, "t1.off"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{0xff, 0xff}, 9) // corrupt slot 0's offset
	f.Close()
	if u, _ := s.Get(ctx, "t1"); u.Offset != 3 {
		t.Fatalf("offset %d after a torn slot, want the previous commit 3", u.Offset)
	}
}

// pattern is the byte at offset i of the SIGKILL test's upload.
func pattern(i int64) byte { return byte(i*7 + i>>8) }

// TestLocalSIGKILL kills a process that appends and commits in a loop and
// checks that the committed offset covers only correct bytes.
func TestLocalSIGKILL(t *testing.T) {
	if dir := os.Getenv("STAGING_KILL_DIR"); dir != "" {
		killChild(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLocalSIGKILL$")
	cmd.Env = append(os.Environ(), "STAGING_KILL_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the child reports a few commits, then kill it mid-write.
	buf := make([]byte, 64)
	seen := 0
	for seen < 5 {
		n, err := out.Read(buf)
		if err != nil {
			t.Fatalf("child: %v", err)
		}
		seen += bytes.Count(buf[:n], []byte("\n"))
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	s := newLocal(t, dir)
	ctx := context.Background()
	u, err := s.Get(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if u.Offset < 5*(1<<20) {
		t.Fatalf("committed offset %d, want at least the 5 commits the child reported", u.Offset)
	}
	rc, err := s.Open(ctx, "k1")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	if int64(len(b)) != u.Offset {
		t.Fatalf("read %d bytes, offset %d", len(b), u.Offset)
	}
	for i, c := range b {
		if c != pattern(int64(i)) {
			t.Fatalf("byte %d is %d, want %d", i, c, pattern(int64(i)))
		}
	}
}

// killChild appends 1 MiB chunks, committing each, and says so on stdout.
func killChild(dir string) {
	ctx := context.Background()
	s, _ := staging.NewLocal(staging.LocalConfig{Dir: dir})
	if err := s.Create(ctx, staging.Upload{ID: "k1", Length: 1 << 40}); err != nil {
		panic(err)
	}
	w, err := s.NewWriter(ctx, "k1", 0)
	if err != nil {
		panic(err)
	}
	chunk := make([]byte, 1<<20)
	for i := 0; ; i++ {
		base := w.Offset()
		for j := range chunk {
			chunk[j] = pattern(base + int64(j))
		}
		// Write in two halves so a kill can land between them.
		w.Write(chunk[:len(chunk)/2])
		w.Write(chunk[len(chunk)/2:])
		if err := w.Commit(w.Offset()); err != nil {
			panic(err)
		}
		fmt.Println(strconv.Itoa(i))
		if i >= 200 { // bounded, should the parent never kill
			time.Sleep(10 * time.Second)
			return
		}
	}
}
