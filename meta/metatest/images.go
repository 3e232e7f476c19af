package metatest

import (
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

func testImageCreateFind(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "nina")
	album := &imgmgr.Album{OwnerID: u.ID, Name: "trip"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, album))
	im := &imgmgr.Image{
		OwnerID: u.ID,
		SHA256:  randomSHA(),
		Size:    123456789012,
		Header: imgmgr.Header{Format: "webp", Width: 4000, Height: 3000, Frames: 12, HasAlpha: true,
			Orientation: 6},
		Title:      "Sunset über Mallorca",
		Filename:   "IMG_0001.webp",
		Visibility: imgmgr.Public,
		AlbumID:    album.ID,
		Tags:       []string{"sea", " beach ", "sea", "", "Beach"},
	}
	must(t, "CreateImage", s.CreateImage(ctx, im))
	wantUUIDv7(t, im.ID)
	wantStored(t, "CreatedAt", im.CreatedAt)
	equal(t, "UpdatedAt", im.UpdatedAt, im.CreatedAt)
	equal(t, "tags trimmed, deduplicated, sorted", im.Tags, []string{"Beach", "beach", "sea"})
	got, err := s.FindImageByID(ctx, im.ID)
	must(t, "FindImageByID", err)
	equal(t, "FindImageByID", got, im)

	plain := &imgmgr.Image{OwnerID: u.ID, SHA256: randomSHA(), Header: imgmgr.Header{Format: "png"}}
	must(t, "CreateImage defaults", s.CreateImage(ctx, plain))
	equal(t, "default visibility", plain.Visibility, imgmgr.Private)
	got, err = s.FindImageByID(ctx, plain.ID)
	must(t, "FindImageByID", err)
	equal(t, "FindImageByID defaults", got, plain)
	if got.Tags == nil || got.AlbumID != "" || got.HasAlpha {
		t.Fatalf("defaults: tags %#v album %q alpha %v", got.Tags, got.AlbumID, got.HasAlpha)
	}

	created := time.Date(2020, 1, 2, 3, 4, 5, 6789, time.UTC)
	old := mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.CreatedAt = created })
	equal(t, "given CreatedAt, truncated", old.CreatedAt, created.Truncate(time.Microsecond))

	_, err = s.FindImageByID(ctx, "00000000-0000-7000-8000-000000000000")
	wantKind(t, "FindImageByID unknown", err, imgmgr.KindNotFound)
	wantKind(t, "CreateImage same id", s.CreateImage(ctx, &imgmgr.Image{ID: im.ID, OwnerID: u.ID, SHA256: "x"}),
		imgmgr.KindConflict)
	wantKind(t, "CreateImage bad visibility",
		s.CreateImage(ctx, &imgmgr.Image{OwnerID: u.ID, SHA256: "x", Visibility: "secret"}), imgmgr.KindInvalid)
	if err := s.CreateImage(ctx, &imgmgr.Image{OwnerID: "no-such-user", SHA256: "x"}); err == nil {
		t.Fatal("CreateImage for a missing owner succeeded")
	}
}

func testImageAlbumChecks(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "olga")
	v := mkUser(t, s, "pete")
	theirs := &imgmgr.Album{OwnerID: v.ID, Name: "theirs"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, theirs))
	err := s.CreateImage(ctx, &imgmgr.Image{OwnerID: u.ID, SHA256: "x", AlbumID: theirs.ID})
	wantKind(t, "CreateImage into another user's album", err, imgmgr.KindInvalid)
	err = s.CreateImage(ctx, &imgmgr.Image{OwnerID: u.ID, SHA256: "x", AlbumID: "no-such-album"})
	wantKind(t, "CreateImage into a missing album", err, imgmgr.KindNotFound)
	im := mkImage(t, s, u.ID, nil)
	_, err = s.UpdateImage(ctx, im.ID, imgmgr.ImageUpdate{AlbumID: &theirs.ID})
	wantKind(t, "UpdateImage into another user's album", err, imgmgr.KindInvalid)
	_, err = s.UpdateImage(ctx, im.ID, imgmgr.ImageUpdate{AlbumID: ptr("no-such-album")})
	wantKind(t, "UpdateImage into a missing album", err, imgmgr.KindNotFound)
	got, err := s.FindImageByID(ctx, im.ID)
	must(t, "FindImageByID", err)
	equal(t, "image after refused updates", got, im)
	n, err := s.CountImagesBySHA(ctx, "x")
	must(t, "CountImagesBySHA", err)
	equal(t, "rows left by refused creates", n, 0)
}

func testImageUpdate(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "quinn")
	a1 := &imgmgr.Album{OwnerID: u.ID, Name: "one"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, a1))
	a2 := &imgmgr.Album{OwnerID: u.ID, Name: "two"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, a2))
	pub := imgmgr.Public

	for _, tc := range []struct {
		name  string
		start func(*imgmgr.Image)
		upd   imgmgr.ImageUpdate
		want  func(*imgmgr.Image)
	}{
		{"title", nil, imgmgr.ImageUpdate{Title: ptr("new title")},
			func(im *imgmgr.Image) { im.Title = "new title" }},
		{"empty title", nil, imgmgr.ImageUpdate{Title: ptr("")},
			func(im *imgmgr.Image) { im.Title = "" }},
		{"visibility", nil, imgmgr.ImageUpdate{Visibility: &pub},
			func(im *imgmgr.Image) { im.Visibility = imgmgr.Public }},
		{"album set", nil, imgmgr.ImageUpdate{AlbumID: &a1.ID},
			func(im *imgmgr.Image) { im.AlbumID = a1.ID }},
		{"album moved", func(im *imgmgr.Image) { im.AlbumID = a1.ID }, imgmgr.ImageUpdate{AlbumID: &a2.ID},
			func(im *imgmgr.Image) { im.AlbumID = a2.ID }},
		{"album removed", func(im *imgmgr.Image) { im.AlbumID = a1.ID }, imgmgr.ImageUpdate{AlbumID: ptr("")},
			func(im *imgmgr.Image) { im.AlbumID = "" }},
		{"tags replaced", func(im *imgmgr.Image) { im.Tags = []string{"a", "b"} },
			imgmgr.ImageUpdate{Tags: &[]string{"c", "b", "c"}},
			func(im *imgmgr.Image) { im.Tags = []string{"b", "c"} }},
		{"tags cleared", func(im *imgmgr.Image) { im.Tags = []string{"a", "b"} },
			imgmgr.ImageUpdate{Tags: &[]string{}},
			func(im *imgmgr.Image) { im.Tags = []string{} }},
		{"tags added", func(im *imgmgr.Image) { im.Tags = []string{"a"} },
			imgmgr.ImageUpdate{AddTags: []string{"z", "a", "m"}},
			func(im *imgmgr.Image) { im.Tags = []string{"a", "m", "z"} }},
		{"tags removed", func(im *imgmgr.Image) { im.Tags = []string{"a", "b", "c"} },
			imgmgr.ImageUpdate{RemoveTags: []string{"b", "missing"}},
			func(im *imgmgr.Image) { im.Tags = []string{"a", "c"} }},
		{"tags replaced then edited", func(im *imgmgr.Image) { im.Tags = []string{"old"} },
			imgmgr.ImageUpdate{Tags: &[]string{"x", "y"}, AddTags: []string{"w"}, RemoveTags: []string{"x"}},
			func(im *imgmgr.Image) { im.Tags = []string{"w", "y"} }},
		{"everything", nil,
			imgmgr.ImageUpdate{Title: ptr("t"), Visibility: &pub, AlbumID: &a2.ID, AddTags: []string{"n"}},
			func(im *imgmgr.Image) {
				im.Title, im.Visibility, im.AlbumID, im.Tags = "t", imgmgr.Public, a2.ID, []string{"n"}
			}},
		{"nothing", func(im *imgmgr.Image) { im.Tags = []string{"keep"} }, imgmgr.ImageUpdate{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im := mkImage(t, s, u.ID, tc.start)
			want := *im
			want.Tags = append([]string{}, im.Tags...)
			if tc.want != nil {
				tc.want(&want)
			}
			got, err := s.UpdateImage(ctx, im.ID, tc.upd)
			must(t, "UpdateImage", err)
			if !got.UpdatedAt.After(im.UpdatedAt) {
				t.Fatalf("UpdatedAt %v did not move past %v", got.UpdatedAt, im.UpdatedAt)
			}
			wantStored(t, "UpdatedAt", got.UpdatedAt)
			want.UpdatedAt = got.UpdatedAt
			equal(t, "UpdateImage result", got, &want)
			found, err := s.FindImageByID(ctx, im.ID)
			must(t, "FindImageByID", err)
			equal(t, "stored image", found, &want)
		})
	}

	im := mkImage(t, s, u.ID, nil)
	bad := imgmgr.Visibility("secret")
	_, err := s.UpdateImage(ctx, im.ID, imgmgr.ImageUpdate{Visibility: &bad})
	wantKind(t, "UpdateImage bad visibility", err, imgmgr.KindInvalid)
	_, err = s.UpdateImage(ctx, "00000000-0000-7000-8000-000000000000", imgmgr.ImageUpdate{Title: ptr("x")})
	wantKind(t, "UpdateImage unknown", err, imgmgr.KindNotFound)
}

func testImageDelete(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "rita")
	sha := randomSHA()
	a := mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.SHA256 = sha; im.Tags = []string{"x"} })
	b := mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.SHA256 = sha })
	mkImage(t, s, u.ID, nil)
	n, err := s.CountImagesBySHA(ctx, sha)
	must(t, "CountImagesBySHA", err)
	equal(t, "CountImagesBySHA", n, 2)

	deleted, remaining, err := s.DeleteImage(ctx, a.ID)
	must(t, "DeleteImage", err)
	equal(t, "deleted image", deleted, a)
	equal(t, "remaining after first delete", remaining, 1)
	_, err = s.FindImageByID(ctx, a.ID)
	wantKind(t, "FindImageByID deleted", err, imgmgr.KindNotFound)
	tags, err := s.ListTags(ctx, u.ID)
	must(t, "ListTags", err)
	equal(t, "tags of a deleted image", len(tags), 0)

	_, remaining, err = s.DeleteImage(ctx, b.ID)
	must(t, "DeleteImage", err)
	equal(t, "remaining after last delete", remaining, 0)
	n, err = s.CountImagesBySHA(ctx, sha)
	must(t, "CountImagesBySHA", err)
	equal(t, "CountImagesBySHA after deletes", n, 0)
	_, _, err = s.DeleteImage(ctx, a.ID)
	wantKind(t, "DeleteImage again", err, imgmgr.KindNotFound)
	count, _, err := s.ImageStats(ctx, u.ID)
	must(t, "ImageStats", err)
	equal(t, "images left", count, 1)
}

func testTagsAndStats(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "sam")
	v := mkUser(t, s, "tess")
	mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.Size = 100; im.Tags = []string{"cat", "dog"} })
	mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.Size = 250; im.Tags = []string{"cat"} })
	mkImage(t, s, v.ID, func(im *imgmgr.Image) { im.Size = 5_000_000_000; im.Tags = []string{"cat", "bird"} })

	for _, tc := range []struct {
		owner string
		tags  []imgmgr.TagCount
		count int
		bytes int64
	}{
		{u.ID, []imgmgr.TagCount{{Tag: "cat", Count: 2}, {Tag: "dog", Count: 1}}, 2, 350},
		{v.ID, []imgmgr.TagCount{{Tag: "bird", Count: 1}, {Tag: "cat", Count: 1}}, 1, 5_000_000_000},
		{"", []imgmgr.TagCount{{Tag: "bird", Count: 1}, {Tag: "cat", Count: 3}, {Tag: "dog", Count: 1}}, 3, 5_000_000_350},
		{"nobody", []imgmgr.TagCount{}, 0, 0},
	} {
		tags, err := s.ListTags(ctx, tc.owner)
		must(t, "ListTags", err)
		equal(t, "ListTags("+tc.owner+")", tags, tc.tags)
		count, bytes, err := s.ImageStats(ctx, tc.owner)
		must(t, "ImageStats", err)
		equal(t, "ImageStats("+tc.owner+")", []int64{int64(count), bytes}, []int64{int64(tc.count), tc.bytes})
	}
}

func testUploadsByDay(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "umar")
	v := mkUser(t, s, "vera")
	day := func(d int, h int) time.Time { return time.Date(2026, 3, d, h, 30, 0, 0, time.UTC) }
	mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.CreatedAt = day(1, 23); im.Size = 10 })
	mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.CreatedAt = day(3, 0); im.Size = 20 })
	mkImage(t, s, u.ID, func(im *imgmgr.Image) { im.CreatedAt = day(3, 22); im.Size = 30 })
	mkImage(t, s, v.ID, func(im *imgmgr.Image) { im.CreatedAt = day(3, 12); im.Size = 40 })
	mkImage(t, s, v.ID, func(im *imgmgr.Image) { im.CreatedAt = day(2, 12).AddDate(0, -1, 0) })

	got, err := s.UploadsByDay(ctx, u.ID, day(1, 0))
	must(t, "UploadsByDay", err)
	equal(t, "UploadsByDay(u)", got, []imgmgr.DayCount{{Day: "2026-03-01", Count: 1, Bytes: 10}, {Day: "2026-03-03", Count: 2, Bytes: 50}})
	got, err = s.UploadsByDay(ctx, "", day(2, 0))
	must(t, "UploadsByDay", err)
	equal(t, "UploadsByDay(all)", got, []imgmgr.DayCount{{Day: "2026-03-03", Count: 3, Bytes: 90}})
}
