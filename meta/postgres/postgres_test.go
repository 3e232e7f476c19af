package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/metatest"
	"github.com/imgmgr/imgmgr/meta/postgres"
)

// schemaURL gives each test a schema of its own.
func schemaURL(t *testing.T) string { return testenv.PostgresSchemaURL(t) }

func open(t *testing.T) meta.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), schemaURL(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	metatest.Run(t, open)
}

// Opening the same schema again applies no migration twice, Migrate is
// idempotent, and concurrent migrators do not trip over each other.
func TestMigrateIdempotent(t *testing.T) {
	ctx := context.Background()
	u := schemaURL(t)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, u)
			if err == nil {
				err = s.Migrate(ctx)
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	s, err := postgres.Open(ctx, u)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	if err != nil || v != 2 {
		t.Fatalf("SchemaVersion = %d, %v; want 2", v, err)
	}
}

func TestOpenBadURL(t *testing.T) {
	if _, err := postgres.Open(context.Background(), "postgres://%zz"); err == nil {
		t.Fatal("Open with a malformed URL succeeded")
	}
}
