package metatest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

func testAPIKeys(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "hank")
	other := mkUser(t, s, "ivy")
	k1 := &imgmgr.APIKey{UserID: u.ID, Name: "laptop", Prefix: "imk_1111", Hash: "hash-1"}
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k1))
	wantUUIDv7(t, k1.ID)
	wantStored(t, "CreatedAt", k1.CreatedAt)
	k2 := &imgmgr.APIKey{UserID: u.ID, Name: "ci", Prefix: "imk_2222", Hash: "hash-2"}
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k2))
	k3 := &imgmgr.APIKey{UserID: other.ID, Name: "ci", Prefix: "imk_3333", Hash: "hash-3"}
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, k3))

	dup := &imgmgr.APIKey{UserID: other.ID, Name: "dup", Prefix: "imk_1111", Hash: "hash-1"}
	wantKind(t, "CreateAPIKey same hash", s.CreateAPIKey(ctx, dup), imgmgr.KindConflict)
	ghost := &imgmgr.APIKey{UserID: "00000000-0000-7000-8000-000000000000", Name: "x", Prefix: "p", Hash: "hash-ghost"}
	if err := s.CreateAPIKey(ctx, ghost); err == nil {
		t.Fatal("CreateAPIKey for a missing user succeeded")
	}

	got, err := s.FindAPIKeyByHash(ctx, "hash-1")
	must(t, "FindAPIKeyByHash", err)
	equal(t, "FindAPIKeyByHash", got, k1)
	if got.LastUsedAt != nil {
		t.Fatalf("new key has LastUsedAt %v", got.LastUsedAt)
	}
	_, err = s.FindAPIKeyByHash(ctx, "hash-none")
	wantKind(t, "FindAPIKeyByHash unknown", err, imgmgr.KindNotFound)

	keys, err := s.ListAPIKeys(ctx, u.ID)
	must(t, "ListAPIKeys", err)
	equal(t, "ListAPIKeys", keys, []imgmgr.APIKey{*k1, *k2})
	keys, err = s.ListAPIKeys(ctx, "nobody")
	must(t, "ListAPIKeys nobody", err)
	equal(t, "ListAPIKeys nobody", len(keys), 0)

	at := time.Date(2025, 6, 1, 12, 0, 0, 987654321, time.UTC)
	must(t, "TouchAPIKey", s.TouchAPIKey(ctx, k1.ID, at))
	got, err = s.FindAPIKeyByHash(ctx, "hash-1")
	must(t, "FindAPIKeyByHash after touch", err)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("LastUsedAt = %v, want %v", got.LastUsedAt, at.Truncate(time.Microsecond))
	}
	wantKind(t, "TouchAPIKey unknown", s.TouchAPIKey(ctx, "nope", at), imgmgr.KindNotFound)

	wantKind(t, "DeleteAPIKey by another user", s.DeleteAPIKey(ctx, other.ID, k1.ID), imgmgr.KindNotFound)
	if _, err := s.FindAPIKeyByHash(ctx, "hash-1"); err != nil {
		t.Fatalf("key gone after another user's delete: %v", err)
	}
	must(t, "DeleteAPIKey by owner", s.DeleteAPIKey(ctx, u.ID, k1.ID))
	_, err = s.FindAPIKeyByHash(ctx, "hash-1")
	wantKind(t, "FindAPIKeyByHash deleted", err, imgmgr.KindNotFound)
	wantKind(t, "DeleteAPIKey again", s.DeleteAPIKey(ctx, u.ID, k1.ID), imgmgr.KindNotFound)
	keys, err = s.ListAPIKeys(ctx, u.ID)
	must(t, "ListAPIKeys", err)
	equal(t, "ListAPIKeys after delete", keys, []imgmgr.APIKey{*k2})
}

func newToken(u *imgmgr.User, hash, family string) *imgmgr.RefreshToken {
	return &imgmgr.RefreshToken{Hash: hash, FamilyID: family, UserID: u.ID, ExpiresAt: time.Now().Add(24 * time.Hour)}
}

func testRefreshRotate(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "jack")
	t1 := newToken(u, "t1", "famA")
	must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, t1))
	wantStored(t, "CreatedAt", t1.CreatedAt)
	got, err := s.FindRefreshToken(ctx, "t1")
	must(t, "FindRefreshToken", err)
	equal(t, "FindRefreshToken", got, t1)
	wantKind(t, "CreateRefreshToken same hash", s.CreateRefreshToken(ctx, newToken(u, "t1", "famB")), imgmgr.KindConflict)

	t2 := &imgmgr.RefreshToken{Hash: "t2", ExpiresAt: time.Now().Add(24 * time.Hour)}
	must(t, "UseRefreshToken", s.UseRefreshToken(ctx, "t1", t2))
	equal(t, "next inherits the family", t2.FamilyID, "famA")
	equal(t, "next inherits the user", t2.UserID, u.ID)
	used, err := s.FindRefreshToken(ctx, "t1")
	must(t, "FindRefreshToken t1", err)
	if used.UsedAt == nil || used.RevokedAt != nil {
		t.Fatalf("t1 after use: UsedAt %v RevokedAt %v", used.UsedAt, used.RevokedAt)
	}
	got, err = s.FindRefreshToken(ctx, "t2")
	must(t, "FindRefreshToken t2", err)
	equal(t, "stored next token", got, t2)

	// Reuse: Conflict, and nothing changes.
	t3 := newToken(u, "t3", "famA")
	wantKind(t, "UseRefreshToken reused", s.UseRefreshToken(ctx, "t1", t3), imgmgr.KindConflict)
	_, err = s.FindRefreshToken(ctx, "t3")
	wantKind(t, "token stored by a refused use", err, imgmgr.KindNotFound)
	again, err := s.FindRefreshToken(ctx, "t1")
	must(t, "FindRefreshToken t1", err)
	equal(t, "t1 after refused reuse", again, used)

	wantKind(t, "UseRefreshToken unknown", s.UseRefreshToken(ctx, "nope", newToken(u, "t4", "famA")), imgmgr.KindNotFound)
	wantKind(t, "UseRefreshToken other family", s.UseRefreshToken(ctx, "t2", newToken(u, "t5", "famZ")), imgmgr.KindInvalid)

	must(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "famA"))
	wantKind(t, "UseRefreshToken revoked", s.UseRefreshToken(ctx, "t2", newToken(u, "t6", "famA")), imgmgr.KindConflict)
	_, err = s.FindRefreshToken(ctx, "t6")
	wantKind(t, "token stored by a revoked use", err, imgmgr.KindNotFound)
}

// Two uses of one token racing: exactly one wins, the others get Conflict
// and store nothing.
func testRefreshRace(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "kate")
	for round := range 5 {
		family := fmt.Sprintf("fam%d", round)
		root := fmt.Sprintf("root%d", round)
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, newToken(u, root, family)))
		const racers = 6
		errs := make([]error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = s.UseRefreshToken(ctx, root, newToken(u, fmt.Sprintf("%s-next%d", root, i), family))
			}()
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			next := fmt.Sprintf("%s-next%d", root, i)
			_, ferr := s.FindRefreshToken(ctx, next)
			switch {
			case err == nil:
				winners++
				must(t, "winner's next token", ferr)
			case imgmgr.KindOf(err) == imgmgr.KindConflict:
				wantKind(t, "loser's next token", ferr, imgmgr.KindNotFound)
			default:
				t.Fatalf("racer %d: %v (want nil or Conflict)", i, err)
			}
		}
		equal(t, "winners", winners, 1)
	}
}

func testRefreshRevoke(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "liam")
	v := mkUser(t, s, "mia")
	tokens := []*imgmgr.RefreshToken{
		newToken(u, "a1", "famA"), newToken(u, "a2", "famA"), newToken(u, "b1", "famB"), newToken(v, "c1", "famC"),
	}
	for _, tok := range tokens {
		must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, tok))
	}
	revoked := func(hash string) bool {
		t.Helper()
		tok, err := s.FindRefreshToken(ctx, hash)
		must(t, "FindRefreshToken "+hash, err)
		return tok.RevokedAt != nil
	}
	must(t, "RevokeRefreshFamily", s.RevokeRefreshFamily(ctx, "famA"))
	must(t, "RevokeRefreshFamily unknown", s.RevokeRefreshFamily(ctx, "famNone"))
	equal(t, "revoked after family revoke", []bool{revoked("a1"), revoked("a2"), revoked("b1"), revoked("c1")},
		[]bool{true, true, false, false})
	must(t, "RevokeUserRefreshTokens", s.RevokeUserRefreshTokens(ctx, u.ID))
	equal(t, "revoked after user revoke", []bool{revoked("a1"), revoked("a2"), revoked("b1"), revoked("c1")},
		[]bool{true, true, true, false})
}
