package localfs

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/imgmgr/imgmgr/blob/blobtest"
)

func TestConformance(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, s)
	// No temp file survives, failed Puts included.
	left, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(left) != 0 {
		t.Fatalf("temp files left behind: %d", len(left))
	}
}

func TestShardedPath(t *testing.T) {
	s := &Store{root: "/r"}
	got := s.path("orig/abcdef")
	if want := filepath.FromSlash("/r/orig/ab/cd/abcdef"); got != want {
		t.Fatalf("path = %s, want %s", got, want)
	}
}

func TestAdopt(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "spool")
	if err := os.WriteFile(src, []byte("adopted bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := s.Adopt(context.Background(), "orig/abcdef", src)
	if err != nil || info.Size != 13 {
		t.Fatalf("Adopt = %+v, %v", info, err)
	}
	if _, err := os.Stat(src); !os.IsNotExist(err) {
		t.Fatal("source file still there")
	}
	b, _ := os.ReadFile(s.path("orig/abcdef"))
	if string(b) != "adopted bytes" {
		t.Fatalf("content %q", b)
	}
	if _, err := s.Adopt(context.Background(), "../x", src); err == nil {
		t.Fatal("bad key adopted")
	}
}
