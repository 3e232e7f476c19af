package auth

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/sqlite"
)

// lateCount is the real store, except that its first CountUsers answers 0:
// the view of a replica that counted just before another created the admin.
type lateCount struct {
	meta.Store
	counted bool
}

func (l *lateCount) CountUsers(ctx context.Context) (int, error) {
	if !l.counted {
		l.counted = true
		return 0, nil
	}
	return l.Store.CountUsers(ctx)
}

// Regression: replicas starting together on an empty database all counted
// zero users and raced to create the first admin; every loser failed
// start-up with "username taken". Losing that race is not an error.
func TestBootstrapRaceLoserStarts(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	key := []byte("0123456789abcdef0123456789abcdef")
	winner, err := New(Config{JWTKey: key}, store)
	if err != nil {
		t.Fatal(err)
	}
	if u, _, err := winner.Bootstrap(ctx, "root", "a-long-enough-password"); err != nil || u != "root" {
		t.Fatalf("first Bootstrap = %q, %v", u, err)
	}
	loser, _ := New(Config{JWTKey: key}, &lateCount{Store: store})
	u, pw, err := loser.Bootstrap(ctx, "root", "a-long-enough-password")
	if err != nil || u != "" || pw != "" {
		t.Fatalf("Bootstrap that lost the race = %q, %q, %v; want nothing created and no error", u, pw, err)
	}
}
