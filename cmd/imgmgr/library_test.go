package main

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

type listResp struct {
	Images []struct {
		ID       string   `json:"id"`
		Title    string   `json:"title"`
		Format   string   `json:"format"`
		Tags     []string `json:"tags"`
		AlbumID  string   `json:"album_id"`
		Vis      string   `json:"visibility"`
		Filename string   `json:"filename"`
	} `json:"images"`
	NextCursor string `json:"next_cursor"`
}

func TestListingFiltersPagesAndBatch(t *testing.T) {
	ts := startServer(t)
	srcs := []string{"photo/concert.jpg", "alpha/blackbug.png", "animated/rotating-squares.gif", "exif-orientation/Landscape_1.jpg", "png16/tbgn2c16.png"}
	ids := []string{}
	for i, s := range srcs {
		fields := map[string]string{"title": fmt.Sprintf("pic %d", i), "tags": "all", "album": "holiday"}
		if i%2 == 0 {
			fields["tags"] = "all,even"
			fields["visibility"] = "public"
		}
		status, out := ts.upload(ts.token, fields, filePart{fmt.Sprintf("file%d", i), testenv.ReadImage(t, s)})
		if status != 201 {
			t.Fatalf("upload %s: %d %+v", s, status, out)
		}
		ids = append(ids, out.Results[0].Image.ID)
	}
	count := func(q url.Values) int {
		var l listResp
		ts.doJSON("GET", "/api/v1/images?"+q.Encode(), ts.token, nil, 200, &l)
		return len(l.Images)
	}
	for _, c := range []struct {
		q    url.Values
		want int
	}{
		{url.Values{}, 5},
		{url.Values{"tag": {"even"}}, 3},
		{url.Values{"format": {"png"}}, 2},
		{url.Values{"visibility": {"public"}}, 3},
		{url.Values{"q": {"PIC 3"}}, 1},
		{url.Values{"q": {"file4"}}, 1},
		{url.Values{"created_before": {"2000-01-01"}}, 0},
	} {
		if got := count(c.q); got != c.want {
			t.Errorf("list %v: %d images, want %d", c.q, got, c.want)
		}
	}
	// Pages of two, newest first, stable while a new image arrives.
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		var l listResp
		ts.doJSON("GET", "/api/v1/images?limit=2&cursor="+url.QueryEscape(cursor), ts.token, nil, 200, &l)
		for _, im := range l.Images {
			if seen[im.ID] {
				t.Fatalf("image %s seen twice", im.ID)
			}
			seen[im.ID] = true
		}
		if page == 0 {
			ts.upload(ts.token, nil, filePart{"late.jpg", testenv.ReadImage(t, "metadata/GPS.jpg")})
		}
		if cursor = l.NextCursor; cursor == "" {
			break
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("paging missed %s", id)
		}
	}
	ts.doJSON("GET", "/api/v1/images?cursor=garbage", ts.token, nil, 400, nil)
	ts.doJSON("GET", "/api/v1/images?sort=sideways", ts.token, nil, 400, nil)

	var albums struct {
		Albums []struct {
			ID, Name string
			Count    int
		} `json:"albums"`
	}
	ts.doJSON("GET", "/api/v1/albums", ts.token, nil, 200, &albums)
	if len(albums.Albums) != 1 || albums.Albums[0].Name != "holiday" || albums.Albums[0].Count != 5 {
		t.Fatalf("albums = %+v", albums)
	}
	var res struct {
		Results []struct{ ID, Status string } `json:"results"`
	}
	ts.doJSON("POST", "/api/v1/images/batch", ts.token, map[string]any{"action": "tag", "ids": ids[:2], "tags": []string{"best"}}, 200, &res)
	ts.doJSON("POST", "/api/v1/images/batch", ts.token, map[string]any{"action": "visibility", "ids": ids, "visibility": "private"}, 200, &res)
	ts.doJSON("POST", "/api/v1/images/batch", ts.token, map[string]any{"action": "move", "ids": ids[:1], "album_id": ""}, 200, &res)
	ts.doJSON("POST", "/api/v1/images/batch", ts.token, map[string]any{"action": "delete", "ids": []string{ids[4], "no-such-id"}}, 200, &res)
	if res.Results[0].Status != "ok" || res.Results[1].Status != "error" {
		t.Fatalf("batch delete results %+v", res.Results)
	}
	if got := count(url.Values{"tag": {"best"}}); got != 2 {
		t.Errorf("tagged %d, want 2", got)
	}
	if got := count(url.Values{"visibility": {"public"}}); got != 0 {
		t.Errorf("public after batch: %d", got)
	}
	if got := count(url.Values{"album": {albums.Albums[0].ID}}); got != 3 {
		t.Errorf("album after move and delete: %d, want 3", got)
	}
	ts.doJSON("POST", "/api/v1/images/batch", ts.token, map[string]any{"action": "explode", "ids": ids}, 400, nil)
	ts.doJSON("PATCH", "/api/v1/images/"+ids[0], ts.token, map[string]any{"visibility": "secret"}, 400, nil)
	ts.doJSON("PATCH", "/api/v1/images/"+ids[0], ts.token, map[string]any{"bogus": 1}, 400, nil)
	ts.doJSON("GET", "/api/v1/images/0190d5e0-0000-7000-8000-000000000000", ts.token, nil, 404, nil)
}

func TestStats(t *testing.T) {
	ts := startServer(t)
	bob := ts.newUser("bob")
	ts.upload(ts.token, nil, filePart{"a.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	ts.upload(bob, nil, filePart{"b.png", testenv.ReadImage(t, "icc/p3.png")})
	type statsResp struct {
		Images       int
		Bytes        int64
		Users        int
		UploadsByDay []struct {
			Day   string
			Count int
		} `json:"uploads_by_day"`
		TopImages []struct{ ID string } `json:"top_images"`
	}
	var all, mine statsResp
	ts.doJSON("GET", "/api/v1/stats", ts.token, nil, 200, &all)
	ts.doJSON("GET", "/api/v1/stats", bob, nil, 200, &mine)
	if all.Images != 2 || all.Users != 2 || len(all.UploadsByDay) != 1 || all.UploadsByDay[0].Count != 2 {
		t.Fatalf("admin stats: %+v", all)
	}
	if mine.Images != 1 || mine.Users != 0 || mine.Bytes != 610 || mine.UploadsByDay[0].Count != 1 {
		t.Fatalf("bob's stats: %+v", mine)
	}
}
