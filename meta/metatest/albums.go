package metatest

import (
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

func testAlbums(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "abe")
	v := mkUser(t, s, "bea")
	trip := &imgmgr.Album{OwnerID: u.ID, Name: "trip"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, trip))
	wantUUIDv7(t, trip.ID)
	wantStored(t, "CreatedAt", trip.CreatedAt)
	wantKind(t, "CreateAlbum same owner and name", s.CreateAlbum(ctx, &imgmgr.Album{OwnerID: u.ID, Name: "trip"}),
		imgmgr.KindConflict)
	wantKind(t, "CreateAlbum empty name", s.CreateAlbum(ctx, &imgmgr.Album{OwnerID: u.ID}), imgmgr.KindInvalid)
	theirTrip := &imgmgr.Album{OwnerID: v.ID, Name: "trip"}
	must(t, "CreateAlbum same name, other owner", s.CreateAlbum(ctx, theirTrip))
	art := &imgmgr.Album{OwnerID: u.ID, Name: "art"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, art))

	for range 3 {
		mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.AlbumID = trip.ID })
	}
	mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.AlbumID = art.ID })
	mkImage(t, s, u.ID, nil)

	got, err := s.FindAlbum(ctx, trip.ID)
	must(t, "FindAlbum", err)
	want := *trip
	want.Count = 3
	equal(t, "FindAlbum", got, &want)
	got, err = s.FindAlbumByName(ctx, u.ID, "trip")
	must(t, "FindAlbumByName", err)
	equal(t, "FindAlbumByName", got, &want)
	_, err = s.FindAlbumByName(ctx, u.ID, "none")
	wantKind(t, "FindAlbumByName unknown", err, imgmgr.KindNotFound)
	_, err = s.FindAlbum(ctx, "00000000-0000-7000-8000-000000000000")
	wantKind(t, "FindAlbum unknown", err, imgmgr.KindNotFound)

	albums, err := s.ListAlbums(ctx, u.ID)
	must(t, "ListAlbums", err)
	wantArt, wantTrip := *art, *trip
	wantArt.Count, wantTrip.Count = 1, 3
	equal(t, "ListAlbums (by name, with counts)", albums, []imgmgr.Album{wantArt, wantTrip})
	all, err := s.ListAlbums(ctx, "")
	must(t, "ListAlbums all", err)
	equal(t, "ListAlbums all", len(all), 3)
	none, err := s.ListAlbums(ctx, "nobody")
	must(t, "ListAlbums nobody", err)
	equal(t, "ListAlbums nobody", len(none), 0)

	renamed, err := s.RenameAlbum(ctx, trip.ID, "holiday")
	must(t, "RenameAlbum", err)
	wantTrip.Name = "holiday"
	equal(t, "RenameAlbum", renamed, &wantTrip)
	got, err = s.FindAlbumByName(ctx, u.ID, "holiday")
	must(t, "FindAlbumByName renamed", err)
	equal(t, "FindAlbumByName renamed", got, &wantTrip)
	_, err = s.RenameAlbum(ctx, trip.ID, "art")
	wantKind(t, "RenameAlbum to a taken name", err, imgmgr.KindConflict)
	_, err = s.RenameAlbum(ctx, "no-such-album", "x")
	wantKind(t, "RenameAlbum unknown", err, imgmgr.KindNotFound)
	_, err = s.RenameAlbum(ctx, trip.ID, "trip") // v's "trip" does not count
	must(t, "RenameAlbum to another owner's name", err)
	wantKind(t, "DeleteAlbum unknown", s.DeleteAlbum(ctx, "no-such-album"), imgmgr.KindNotFound)
}

func testAlbumDeleteKeepsImages(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "cy")
	a := &imgmgr.Album{OwnerID: u.ID, Name: "doomed"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, a))
	in := mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.AlbumID = a.ID; im.Tags = []string{"t"} })
	out := mkImage(t, s, u.ID, nil)

	must(t, "DeleteAlbum", s.DeleteAlbum(ctx, a.ID))
	_, err := s.FindAlbum(ctx, a.ID)
	wantKind(t, "FindAlbum deleted", err, imgmgr.KindNotFound)
	wantKind(t, "DeleteAlbum again", s.DeleteAlbum(ctx, a.ID), imgmgr.KindNotFound)
	got, err := s.FindImageByID(ctx, in.ID)
	must(t, "FindImageByID", err)
	equal(t, "album of an image whose album was deleted", got.AlbumID, "")
	equal(t, "tags kept", got.Tags, []string{"t"})
	page, err := s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: u.ID, Sort: imgmgr.SortCreatedAsc})
	must(t, "ListImages", err)
	equal(t, "images after album delete", ids(page.Images), []string{in.ID, out.ID})
	page, err = s.ListImages(ctx, imgmgr.ImageFilter{AlbumID: a.ID})
	must(t, "ListImages album", err)
	equal(t, "images in the deleted album", len(page.Images), 0)

	// The name is free again.
	must(t, "CreateAlbum reusing the name", s.CreateAlbum(ctx, &imgmgr.Album{OwnerID: u.ID, Name: "doomed"}))
}
