package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCorpusUpToDate is `go run ./testdata/hostile/gen -check` as a test:
// every corpus file, README.md and manifest.tsv are what gen makes. Run it
// by its path (go test ./testdata/hostile/gen): ./... skips testdata.
func TestCorpusUpToDate(t *testing.T) {
	if err := run("..", source{filepath.Join("..", "..", "images")}, true); err != nil {
		t.Fatal(err)
	}
}

// TestCheckFindsAChange makes sure the check can fail: a corpus with one
// byte changed is reported stale.
func TestCheckFindsAChange(t *testing.T) {
	dir := t.TempDir()
	for _, it := range corpus() {
		b, err := it.make(source{filepath.Join("..", "..", "images")})
		if err != nil {
			t.Fatal(err)
		}
		if it.name == "gps.jpg" {
			b[len(b)-3] ^= 1
		}
		if err := os.WriteFile(filepath.Join(dir, it.name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"README.md", "manifest.tsv"} {
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := run(dir, source{filepath.Join("..", "..", "images")}, true)
	if err == nil || err.Error() != "out of date (run go run ./testdata/hostile/gen): gps.jpg" {
		t.Fatalf("check of a changed corpus: %v", err)
	}
}
