package localfs

import (
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
