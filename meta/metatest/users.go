package metatest

import (
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

func testUserCreateFind(t *testing.T, s meta.Store) {
	n, err := s.CountUsers(ctx)
	must(t, "CountUsers", err)
	equal(t, "CountUsers on an empty store", n, 0)

	bob := mkUser(t, s, "bob")
	alice := &imgmgr.User{Username: "alice", PasswordHash: "h"}
	must(t, "CreateUser alice", s.CreateUser(ctx, alice))
	wantUUIDv7(t, alice.ID)
	equal(t, "default role", alice.Role, imgmgr.RoleUser)
	wantStored(t, "CreatedAt", alice.CreatedAt)
	equal(t, "UpdatedAt", alice.UpdatedAt, alice.CreatedAt)
	equal(t, "PasswordChangedAt", alice.PasswordChangedAt, alice.CreatedAt)

	got, err := s.FindUserByID(ctx, alice.ID)
	must(t, "FindUserByID", err)
	equal(t, "FindUserByID", got, alice)
	got, err = s.FindUserByUsername(ctx, "bob")
	must(t, "FindUserByUsername", err)
	equal(t, "FindUserByUsername", got, bob)

	_, err = s.FindUserByID(ctx, "00000000-0000-7000-8000-000000000000")
	wantKind(t, "FindUserByID unknown", err, imgmgr.KindNotFound)
	_, err = s.FindUserByID(ctx, "not a uuid")
	wantKind(t, "FindUserByID malformed", err, imgmgr.KindNotFound)
	_, err = s.FindUserByUsername(ctx, "carol")
	wantKind(t, "FindUserByUsername unknown", err, imgmgr.KindNotFound)

	dup := &imgmgr.User{Username: "bob", PasswordHash: "other"}
	wantKind(t, "CreateUser taken username", s.CreateUser(ctx, dup), imgmgr.KindConflict)
	wantKind(t, "CreateUser bad role", s.CreateUser(ctx, &imgmgr.User{Username: "x", Role: "root"}), imgmgr.KindInvalid)
	wantKind(t, "CreateUser empty name", s.CreateUser(ctx, &imgmgr.User{}), imgmgr.KindInvalid)

	n, err = s.CountUsers(ctx)
	must(t, "CountUsers", err)
	equal(t, "CountUsers", n, 2)
	users, err := s.ListUsers(ctx)
	must(t, "ListUsers", err)
	equal(t, "ListUsers (by username)", users, []imgmgr.User{*alice, *bob})
}

func testUserTimesRoundTrip(t *testing.T, s meta.Store) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	created := time.Date(2024, 2, 29, 23, 59, 58, 123456789, zone)
	u := &imgmgr.User{Username: "timely", PasswordHash: "h", Role: imgmgr.RoleAdmin, CreatedAt: created}
	must(t, "CreateUser", s.CreateUser(ctx, u))
	want := created.UTC().Truncate(time.Microsecond)
	if !u.CreatedAt.Equal(want) {
		t.Fatalf("CreatedAt filled as %v, want %v", u.CreatedAt, want)
	}
	got, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Fatalf("CreatedAt read back as %v, want %v in UTC", got.CreatedAt, want)
	}
	equal(t, "round trip", got, u)
}

func testUserUpdate(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "dora")
	admin := imgmgr.RoleAdmin
	got, err := s.UpdateUser(ctx, u.ID, imgmgr.UserUpdate{Role: &admin})
	must(t, "UpdateUser role", err)
	equal(t, "role", got.Role, imgmgr.RoleAdmin)
	equal(t, "PasswordChangedAt after a role change", got.PasswordChangedAt, u.PasswordChangedAt)
	equal(t, "password hash after a role change", got.PasswordHash, u.PasswordHash)
	if !got.UpdatedAt.After(u.UpdatedAt) {
		t.Fatalf("UpdatedAt %v did not move past %v", got.UpdatedAt, u.UpdatedAt)
	}

	got2, err := s.UpdateUser(ctx, u.ID, imgmgr.UserUpdate{PasswordHash: ptr("new-hash")})
	must(t, "UpdateUser password", err)
	equal(t, "hash", got2.PasswordHash, "new-hash")
	equal(t, "role kept", got2.Role, imgmgr.RoleAdmin)
	if !got2.PasswordChangedAt.After(u.PasswordChangedAt) {
		t.Fatalf("PasswordChangedAt %v did not move past %v", got2.PasswordChangedAt, u.PasswordChangedAt)
	}
	wantStored(t, "PasswordChangedAt", got2.PasswordChangedAt)
	found, err := s.FindUserByID(ctx, u.ID)
	must(t, "FindUserByID", err)
	equal(t, "stored update", found, got2)

	bad := imgmgr.Role("root")
	_, err = s.UpdateUser(ctx, u.ID, imgmgr.UserUpdate{Role: &bad})
	wantKind(t, "UpdateUser bad role", err, imgmgr.KindInvalid)
	_, err = s.UpdateUser(ctx, "00000000-0000-7000-8000-000000000000", imgmgr.UserUpdate{Role: &admin})
	wantKind(t, "UpdateUser unknown", err, imgmgr.KindNotFound)
}

func testUserDelete(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "erin")
	other := mkUser(t, s, "frank")
	key := &imgmgr.APIKey{UserID: u.ID, Name: "ci", Prefix: "imk_ab", Hash: "keyhash-erin"}
	must(t, "CreateAPIKey", s.CreateAPIKey(ctx, key))
	otherKey := &imgmgr.APIKey{UserID: other.ID, Name: "ci", Prefix: "imk_cd", Hash: "keyhash-frank"}
	must(t, "CreateAPIKey other", s.CreateAPIKey(ctx, otherKey))
	tok := &imgmgr.RefreshToken{Hash: "tok-erin", FamilyID: "fam-erin", UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}
	must(t, "CreateRefreshToken", s.CreateRefreshToken(ctx, tok))
	album := &imgmgr.Album{OwnerID: u.ID, Name: "empty"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, album))

	must(t, "DeleteUser", s.DeleteUser(ctx, u.ID))
	_, err := s.FindUserByID(ctx, u.ID)
	wantKind(t, "FindUserByID after delete", err, imgmgr.KindNotFound)
	_, err = s.FindAPIKeyByHash(ctx, key.Hash)
	wantKind(t, "API key after user delete", err, imgmgr.KindNotFound)
	_, err = s.FindRefreshToken(ctx, tok.Hash)
	wantKind(t, "refresh token after user delete", err, imgmgr.KindNotFound)
	_, err = s.FindAlbum(ctx, album.ID)
	wantKind(t, "album after user delete", err, imgmgr.KindNotFound)
	_, err = s.FindAPIKeyByHash(ctx, otherKey.Hash)
	must(t, "other user's key survives", err)
	n, err := s.CountUsers(ctx)
	must(t, "CountUsers", err)
	equal(t, "CountUsers after delete", n, 1)
	wantKind(t, "DeleteUser again", s.DeleteUser(ctx, u.ID), imgmgr.KindNotFound)

	// The username is free again.
	mkUser(t, s, "erin")
}

// A user who owns images is not deleted (documented in meta/sqldb).
func testUserDeleteWithImages(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "gina")
	im := mkImage(t, s, u.ID, nil)
	wantKind(t, "DeleteUser owning images", s.DeleteUser(ctx, u.ID), imgmgr.KindConflict)
	if _, err := s.FindUserByID(ctx, u.ID); err != nil {
		t.Fatalf("user gone after a refused delete: %v", err)
	}
	_, _, err := s.DeleteImage(ctx, im.ID)
	must(t, "DeleteImage", err)
	must(t, "DeleteUser once the images are gone", s.DeleteUser(ctx, u.ID))
}
