package delivery_test

import (
	"context"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/delivery"
)

// TestTagHeaderAndURLIndex: every variant answer carries the image's tag
// and the tag of all variants, and each served path is indexed once per
// image with whether its format was negotiated.
func TestTagHeaderAndURLIndex(t *testing.T) {
	e := newEnv(t, func(c *delivery.Config) { c.TagHeader = "Cache-Tag" }, nil)
	im := e.addImage("photo/2569067123_aca715a2ee_o.jpg", imgmgr.Public)
	negotiated, explicit := e.sign(im, "rs:fit:100:100", "", 0), e.sign(im, "rs:fit:100:100", "webp", 0)
	for _, p := range []string{negotiated, negotiated, explicit} {
		r := e.get("GET", p, "Accept", "image/webp,*/*")
		if r.status != 200 || r.header.Get("Cache-Tag") != "img-"+im.ID+",imgmgr" {
			t.Fatalf("GET %s: %d, Cache-Tag %q", p, r.status, r.header.Get("Cache-Tag"))
		}
	}
	urls, err := e.meta.ListVariantURLs(context.Background(), im.ID)
	if err != nil || len(urls) != 2 {
		t.Fatalf("indexed %+v, %v; want the two paths", urls, err)
	}
	for _, u := range urls {
		if want := u.Path == negotiated; u.Negotiated != want {
			t.Errorf("%s: negotiated %v, want %v", u.Path, u.Negotiated, want)
		}
	}
}
