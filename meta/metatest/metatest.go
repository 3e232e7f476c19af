// Package metatest is the conformance suite of meta.Store: every backend
// runs Run from its tests, the way fstest.TestFS checks an fs.FS.
package metatest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

// Run checks that stores made by open meet the meta.Store contract. open
// must return a fresh, empty, migrated store for each call; Run closes it
// when the test ends (cleanups that open registers run after that). The
// subtests run in parallel, each on its own store.
func Run(t *testing.T, open func(t *testing.T) meta.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s meta.Store)
	}{
		{"Ping", testPing},
		{"UserCreateFind", testUserCreateFind},
		{"UserTimesRoundTrip", testUserTimesRoundTrip},
		{"UserUpdate", testUserUpdate},
		{"UserDelete", testUserDelete},
		{"UserDeleteWithImages", testUserDeleteWithImages},
		{"APIKeys", testAPIKeys},
		{"RefreshRotate", testRefreshRotate},
		{"RefreshRace", testRefreshRace},
		{"RefreshRevoke", testRefreshRevoke},
		{"ImageCreateFind", testImageCreateFind},
		{"ImageAlbumChecks", testImageAlbumChecks},
		{"ImageUpdate", testImageUpdate},
		{"ImageDelete", testImageDelete},
		{"TagsAndStats", testTagsAndStats},
		{"UploadsByDay", testUploadsByDay},
		{"ListFilters", testListFilters},
		{"ListSorts", testListSorts},
		{"ListPaginationStable", testListPaginationStable},
		{"ListBadInput", testListBadInput},
		{"ListLimits", testListLimits},
		{"Albums", testAlbums},
		{"AlbumDeleteKeepsImages", testAlbumDeleteKeepsImages},
		{"Variants", testVariants},
		{"JobClaim", testJobClaim},
		{"JobConcurrentClaim", testJobConcurrentClaim},
		{"JobLeaseExpiry", testJobLeaseExpiry},
		{"JobCompleteFail", testJobCompleteFail},
		{"CDNTaskLifecycle", testCDNTaskLifecycle},
		{"CDNLeaseLapse", testCDNLeaseLapse},
		{"CDNConcurrentClaim", testCDNConcurrentClaim},
		{"VariantURLs", testVariantURLs},
		{"ConcurrentWrites", testConcurrentWrites},
		{"ClosedIsUnavailable", testClosedIsUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

func testPing(t *testing.T, s meta.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// wantKind fails unless err is an *imgmgr.Error of kind want.
func wantKind(t *testing.T, what string, err error, want imgmgr.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want kind %v", what, want)
	}
	if got := imgmgr.KindOf(err); got != want {
		t.Fatalf("%s: got kind %v (%v), want %v", what, got, err, want)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// wantUUIDv7 checks that id is a UUID of version 7.
func wantUUIDv7(t *testing.T, id string) {
	t.Helper()
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		t.Fatalf("id %q is not a UUIDv7 (%v)", id, err)
	}
}

// wantStored checks that a time filled in by the store is UTC with at most
// microsecond precision and not zero.
func wantStored(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.IsZero() || tm.Location() != time.UTC || tm.Nanosecond()%1000 != 0 {
		t.Fatalf("%s = %v: want a non-zero UTC time in microseconds", what, tm)
	}
}

var ctx = context.Background()

func mkUser(t *testing.T, s meta.Store, name string) *imgmgr.User {
	t.Helper()
	u := &imgmgr.User{Username: name, Role: imgmgr.RoleUser, PasswordHash: "hash-" + name}
	must(t, "CreateUser "+name, s.CreateUser(ctx, u))
	return u
}

// mkImage creates an image of owner; edit adjusts it before it is stored.
func mkImage(t *testing.T, s meta.Store, ownerID string, edit func(*imgmgr.Image)) *imgmgr.Image {
	t.Helper()
	im := &imgmgr.Image{
		OwnerID:    ownerID,
		SHA256:     randomSHA(),
		Size:       1000,
		Header:     imgmgr.Header{Format: "jpeg", Width: 640, Height: 480, Frames: 1, Orientation: 1},
		Title:      "untitled",
		Filename:   "image.jpg",
		Visibility: imgmgr.Private,
	}
	if edit != nil {
		edit(im)
	}
	must(t, "CreateImage", s.CreateImage(ctx, im))
	return im
}

func ptr[T any](v T) *T { return &v }

// randomSHA returns a fresh hex SHA-256.
func randomSHA() string {
	return fmt.Sprintf("%x", sha256.Sum256([]byte(uuid.NewString())))
}

// testClosedIsUnavailable: a closed store (a pool shut down under a
// request) answers KindUnavailable, never Internal (issue 10, item 3).
func testClosedIsUnavailable(t *testing.T, s meta.Store) {
	ctx := context.Background()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := s.FindUserByUsername(ctx, "nobody")
	wantKind(t, "FindUserByUsername on a closed store", err, imgmgr.KindUnavailable)
	err = s.CreateUser(ctx, &imgmgr.User{Username: "late", PasswordHash: "x"})
	wantKind(t, "CreateUser on a closed store", err, imgmgr.KindUnavailable)
	wantKind(t, "Ping on a closed store", s.Ping(ctx), imgmgr.KindUnavailable)
}
