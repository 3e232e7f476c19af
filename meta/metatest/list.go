package metatest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/meta"
)

func ids(ims []imgmgr.Image) []string {
	out := make([]string, len(ims))
	for i, im := range ims {
		out[i] = im.ID
	}
	return out
}

func day(month, d int) time.Time { return time.Date(2024, time.Month(month), d, 12, 0, 0, 0, time.UTC) }

func testListFilters(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "uma")
	v := mkUser(t, s, "vic")
	album := &imgmgr.Album{OwnerID: u.ID, Name: "A"}
	must(t, "CreateAlbum", s.CreateAlbum(ctx, album))
	img := func(owner, title, filename, format string, vis imgmgr.Visibility, tags []string, albumID string, created time.Time) *imgmgr.Image {
		return mkImage(t, s, owner, func(im *imgmgr.Image) {
			im.Title, im.Filename, im.Format, im.Visibility, im.Tags, im.AlbumID, im.CreatedAt =
				title, filename, format, vis, tags, albumID, created
		})
	}
	i1 := img(u.ID, "Red Fox", "fox.jpg", "jpeg", imgmgr.Public, []string{"animal", "red"}, album.ID, day(1, 1))
	i2 := img(u.ID, "blue sky", "SKY_100%.png", "png", imgmgr.Private, []string{"sky"}, "", day(2, 1))
	i3 := img(u.ID, "Foxglove", "flower.webp", "webp", imgmgr.Public, []string{"plant"}, "", day(3, 1))
	i4 := img(v.ID, "Other fox", "o.jpg", "jpeg", imgmgr.Public, []string{"animal"}, "", day(4, 1))
	i5 := img(u.ID, "under_score", "x.gif", "gif", imgmgr.Private, nil, "", day(5, 1))

	for _, tc := range []struct {
		name string
		f    imgmgr.ImageFilter
		want []*imgmgr.Image // newest first
	}{
		{"none", imgmgr.ImageFilter{}, []*imgmgr.Image{i5, i4, i3, i2, i1}},
		{"owner", imgmgr.ImageFilter{OwnerID: u.ID}, []*imgmgr.Image{i5, i3, i2, i1}},
		{"unknown owner", imgmgr.ImageFilter{OwnerID: "nobody"}, nil},
		{"album", imgmgr.ImageFilter{AlbumID: album.ID}, []*imgmgr.Image{i1}},
		{"tag", imgmgr.ImageFilter{Tag: "animal"}, []*imgmgr.Image{i4, i1}},
		{"tag and owner", imgmgr.ImageFilter{Tag: "animal", OwnerID: u.ID}, []*imgmgr.Image{i1}},
		{"tag is exact", imgmgr.ImageFilter{Tag: "anim"}, nil},
		{"format", imgmgr.ImageFilter{Format: "jpeg"}, []*imgmgr.Image{i4, i1}},
		{"visibility public", imgmgr.ImageFilter{Visibility: imgmgr.Public}, []*imgmgr.Image{i4, i3, i1}},
		{"visibility private", imgmgr.ImageFilter{Visibility: imgmgr.Private}, []*imgmgr.Image{i5, i2}},
		{"text in title or filename", imgmgr.ImageFilter{Text: "fox"}, []*imgmgr.Image{i4, i3, i1}},
		{"text ignores case", imgmgr.ImageFilter{Text: "FOX"}, []*imgmgr.Image{i4, i3, i1}},
		{"text in filename only", imgmgr.ImageFilter{Text: "flower"}, []*imgmgr.Image{i3}},
		{"text percent is literal", imgmgr.ImageFilter{Text: "%"}, []*imgmgr.Image{i2}},
		{"text underscore is literal", imgmgr.ImageFilter{Text: "_"}, []*imgmgr.Image{i5, i2}},
		{"text backslash is literal", imgmgr.ImageFilter{Text: `\`}, nil},
		{"created after (exclusive)", imgmgr.ImageFilter{CreatedAfter: day(2, 1)}, []*imgmgr.Image{i5, i4, i3}},
		{"created before (exclusive)", imgmgr.ImageFilter{CreatedBefore: day(3, 1)}, []*imgmgr.Image{i2, i1}},
		{"created between", imgmgr.ImageFilter{CreatedAfter: day(1, 15), CreatedBefore: day(4, 15)},
			[]*imgmgr.Image{i4, i3, i2}},
		{"combined", imgmgr.ImageFilter{OwnerID: u.ID, Visibility: imgmgr.Public, Text: "fox"},
			[]*imgmgr.Image{i3, i1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, err := s.ListImages(ctx, tc.f)
			must(t, "ListImages", err)
			want := []imgmgr.Image{}
			for _, im := range tc.want {
				want = append(want, *im)
			}
			equal(t, "images", page.Images, want)
			equal(t, "NextCursor", page.NextCursor, "")
		})
	}
}

// sortedBy returns ims in the order of sort: the key, then the id, both in
// the sort's direction.
func sortedBy(sort string, ims []imgmgr.Image) []imgmgr.Image {
	out := slices.Clone(ims)
	slices.SortFunc(out, func(a, b imgmgr.Image) int { return compareBy(sort, a, b) })
	return out
}

func compareBy(sort string, a, b imgmgr.Image) int {
	var c int
	switch strings.TrimPrefix(sort, "-") {
	case "created":
		c = a.CreatedAt.Compare(b.CreatedAt)
	case "size":
		c = compareInt(a.Size, b.Size)
	case "title":
		c = strings.Compare(a.Title, b.Title)
	}
	if c == 0 {
		c = strings.Compare(a.ID, b.ID)
	}
	if strings.HasPrefix(sort, "-") {
		c = -c
	}
	return c
}

func compareInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var allSorts = []string{imgmgr.SortCreatedDesc, imgmgr.SortCreatedAsc, imgmgr.SortSizeDesc,
	imgmgr.SortSizeAsc, imgmgr.SortTitleAsc, imgmgr.SortTitleDesc}

// mkVaried creates n images of owner whose sort keys collide often, so
// that the id tie-breaker matters.
func mkVaried(t *testing.T, s meta.Store, ownerID string, n, salt int) []imgmgr.Image {
	t.Helper()
	titles := []string{"b", "a", "B", "c", "a", "Ä", ""}
	base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	var out []imgmgr.Image
	for i := range n {
		k := i + salt
		im := mkImage(t, s, ownerID, func(im *imgmgr.Image) {
			im.Size = int64(k%4) * 100
			im.Title = titles[k%len(titles)]
			im.CreatedAt = base.Add(time.Duration(k%3)*time.Hour + time.Duration(k%5)*time.Microsecond)
		})
		out = append(out, *im)
	}
	return out
}

func testListSorts(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "wade")
	ims := mkVaried(t, s, u.ID, 14, 0)
	for _, sort := range append(allSorts, "") {
		page, err := s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: u.ID, Sort: sort})
		must(t, "ListImages "+sort, err)
		want := sort
		if want == "" {
			want = imgmgr.SortCreatedDesc
		}
		equal(t, fmt.Sprintf("order of sort %q", sort), ids(page.Images), ids(sortedBy(want, ims)))
	}
}

// Pages neither repeat nor skip images while new ones are inserted between
// page fetches, in every sort order.
func testListPaginationStable(t *testing.T, s meta.Store) {
	for i, sort := range allSorts {
		t.Run(sort, func(t *testing.T) {
			u := mkUser(t, s, fmt.Sprintf("pager%d", i))
			orig := mkVaried(t, s, u.ID, 23, 0)
			seen := map[string]bool{}
			var got []imgmgr.Image
			f := imgmgr.ImageFilter{OwnerID: u.ID, Sort: sort, Limit: 5}
			for pages := 0; ; pages++ {
				if pages > 30 {
					t.Fatal("pagination does not end")
				}
				page, err := s.ListImages(ctx, f)
				must(t, "ListImages", err)
				for _, im := range page.Images {
					if seen[im.ID] {
						t.Fatalf("image %s listed twice", im.ID)
					}
					seen[im.ID] = true
					got = append(got, im)
				}
				if page.NextCursor == "" {
					break
				}
				if len(page.Images) != 5 {
					t.Fatalf("a page before the last has %d images, want 5", len(page.Images))
				}
				mkVaried(t, s, u.ID, 2, 7+pages*3) // new images between fetches
				f.Cursor = page.NextCursor
			}
			for _, im := range orig {
				if !seen[im.ID] {
					t.Fatalf("image %s (size %d, title %q) skipped", im.ID, im.Size, im.Title)
				}
			}
			for j := 1; j < len(got); j++ {
				if compareBy(sort, got[j-1], got[j]) >= 0 {
					t.Fatalf("listing out of order at %d: %+v before %+v", j, got[j-1], got[j])
				}
			}
		})
	}
}

func testListBadInput(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "xena")
	mkVaried(t, s, u.ID, 3, 0)
	page, err := s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: u.ID, Sort: imgmgr.SortSizeDesc, Limit: 1})
	must(t, "ListImages", err)
	if page.NextCursor == "" {
		t.Fatal("no NextCursor on a first page of three")
	}
	for _, tc := range []struct {
		name string
		f    imgmgr.ImageFilter
	}{
		{"cursor not base64", imgmgr.ImageFilter{Cursor: "!!not a cursor!!"}},
		{"cursor of garbage", imgmgr.ImageFilter{Cursor: "Z2FyYmFnZQ"}},
		{"cursor truncated", imgmgr.ImageFilter{Sort: imgmgr.SortSizeDesc, Cursor: page.NextCursor[:len(page.NextCursor)/2]}},
		{"cursor of another sort", imgmgr.ImageFilter{Sort: imgmgr.SortTitleAsc, Cursor: page.NextCursor}},
		{"unknown sort", imgmgr.ImageFilter{Sort: "colour"}},
		{"negative limit", imgmgr.ImageFilter{Limit: -1}},
	} {
		_, err := s.ListImages(ctx, tc.f)
		wantKind(t, tc.name, err, imgmgr.KindInvalid)
	}
	next, err := s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: u.ID, Sort: imgmgr.SortSizeDesc, Limit: 1, Cursor: page.NextCursor})
	must(t, "ListImages with the cursor", err)
	equal(t, "second page size", len(next.Images), 1)
}

func testListLimits(t *testing.T, s meta.Store) {
	u := mkUser(t, s, "yuri")
	for range 201 {
		mkImage(t, s, u.ID, nil)
	}
	for _, tc := range []struct {
		limit, want int
	}{{0, 50}, {1, 1}, {199, 199}, {200, 200}, {201, 200}, {100000, 200}} {
		page, err := s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: u.ID, Limit: tc.limit})
		must(t, "ListImages", err)
		equal(t, fmt.Sprintf("page size for limit %d", tc.limit), len(page.Images), tc.want)
		if page.NextCursor == "" {
			t.Fatalf("limit %d: no NextCursor with more images left", tc.limit)
		}
	}
	page, err := s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: u.ID, Limit: 200})
	must(t, "ListImages", err)
	last, err := s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: u.ID, Limit: 200, Cursor: page.NextCursor})
	must(t, "ListImages last page", err)
	equal(t, "last page size", len(last.Images), 1)
	equal(t, "last page NextCursor", last.NextCursor, "")

	// A last page that is exactly full has no NextCursor either.
	v := mkUser(t, s, "zoe")
	for range 3 {
		mkImage(t, s, v.ID, nil)
	}
	page, err = s.ListImages(ctx, imgmgr.ImageFilter{OwnerID: v.ID, Limit: 3})
	must(t, "ListImages", err)
	equal(t, "exact page size", len(page.Images), 3)
	equal(t, "exact page NextCursor", page.NextCursor, "")
}
