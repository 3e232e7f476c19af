package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/metatest"
	"github.com/imgmgr/imgmgr/meta/sqlite"
)

func open(t *testing.T) meta.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	metatest.Run(t, open)
}

// Opening an existing database again applies no migration twice, and
// Migrate is idempotent.
func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "meta.db")
	for range 2 {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != 2 {
			t.Fatalf("SchemaVersion = %d, %v; want 2", v, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}
