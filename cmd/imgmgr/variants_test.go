package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

func TestSignedVariantThroughTheServer(t *testing.T) {
	ts := startServer(t)
	_, out := ts.upload(ts.token, map[string]string{"visibility": "public"}, filePart{"p.jpg", testenv.ReadImage(t, "photo/2569067123_aca715a2ee_o.jpg")})
	id := out.Results[0].Image.ID
	var signed struct{ URLs []string }
	ts.doJSON("POST", "/api/v1/images/"+id+"/urls", ts.token, map[string]any{"variants": []string{"rs:fit:400:0@webp", "pr:thumb"}}, 200, &signed)
	if len(signed.URLs) != 2 || !strings.HasPrefix(signed.URLs[0], "/img/") || !strings.HasSuffix(signed.URLs[0], id+".webp") {
		t.Fatalf("urls = %v", signed.URLs)
	}
	resp := ts.do("GET", signed.URLs[0], "", nil, nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/webp" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || len(body) < 100 {
		t.Fatalf("variant: %d %v (%d bytes)", resp.StatusCode, resp.Header, len(body))
	}
	resp = ts.do("GET", signed.URLs[0], "", nil, map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", resp.StatusCode)
	}
	tampered := strings.Replace(signed.URLs[0], "400", "401", 1)
	resp = ts.do("GET", tampered, "", nil, nil)
	if resp.StatusCode != 403 || errorCode(t, resp) == "" {
		t.Fatalf("tampered URL: %d", resp.StatusCode)
	}
	ts.doJSON("POST", "/api/v1/images/"+id+"/urls", ts.token, map[string]any{"variants": []string{"rs:wobble"}}, 400, nil)
	bob := ts.newUser("bob")
	ts.doJSON("POST", "/api/v1/images/"+id+"/urls", bob, map[string]any{"variants": []string{"pr:thumb"}}, 404, nil)

	// The served variants count as views of the image.
	var st struct {
		TopImages []struct {
			ID    string
			Views int64
		} `json:"top_images"`
	}
	ts.doJSON("GET", "/api/v1/stats", ts.token, nil, 200, &st)
	if len(st.TopImages) != 1 || st.TopImages[0].ID != id || st.TopImages[0].Views != 2 {
		t.Fatalf("top images = %+v", st.TopImages)
	}
	// Deleting the image drops its variants too.
	ts.doJSON("DELETE", "/api/v1/images/"+id, ts.token, nil, 204, nil)
	if n := countFiles(t, ts.dir+"/blobs/var"); n != 0 {
		t.Fatalf("%d variant blobs left after delete", n)
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	ts := startServer(t)
	missing, stale := httpapi.CheckOpenAPI(ts.app.handler.Routes())
	if len(missing) > 0 || len(stale) > 0 {
		t.Fatalf("openapi.json: routes not documented %v; documented but not served %v", missing, stale)
	}
}

// TestSignCommand: `imgmgr sign` prints URLs the running server accepts.
func TestSignCommand(t *testing.T) {
	ts := startServer(t)
	_, out := ts.upload(ts.token, nil, filePart{"p.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	id := out.Results[0].Image.ID
	var stdout, stderr strings.Builder
	env := func(string) string { return "" }
	err := run(context.Background(), []string{"sign", "--data-dir", ts.dir, id, "rs:fit:200:0@png", "pr:thumb"}, nil, &stdout, &stderr, env)
	if err != nil {
		t.Fatalf("sign: %v (%s)", err, stderr.String())
	}
	urls := strings.Fields(stdout.String())
	if len(urls) != 2 || !strings.Contains(urls[0], "exp:") { // private: the URL expires
		t.Fatalf("urls = %v", urls)
	}
	for _, u := range urls {
		resp := ts.do("GET", u, "", nil, nil)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
	}
	if err := run(context.Background(), []string{"sign", "--data-dir", ts.dir, id, "rs:nope"}, nil, &stdout, &stderr, env); err == nil {
		t.Fatal("a bad option was signed")
	}
}

func TestBatchSignedURLs(t *testing.T) {
	ts := startServer(t)
	bob := ts.newUser("bob")
	_, a := ts.upload(ts.token, nil, filePart{"a.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	_, b := ts.upload(bob, nil, filePart{"b.png", testenv.ReadImage(t, "icc/p3.png")})
	idA, idB := a.Results[0].Image.ID, b.Results[0].Image.ID
	var out struct {
		URLs   map[string][]string
		Errors map[string]struct{ Code string }
	}
	ts.doJSON("POST", "/api/v1/images/urls", bob, map[string]any{"ids": []string{idA, idB}, "variants": []string{"rs:fill:100:100@webp", "pr:thumb"}}, 200, &out)
	if len(out.URLs[idB]) != 2 || out.URLs[idA] != nil || out.Errors[idA].Code != "not_found" {
		t.Fatalf("batch = %+v", out)
	}
	resp := ts.do("GET", out.URLs[idB][0], "", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("batch-signed URL: %d", resp.StatusCode)
	}
	ts.doJSON("POST", "/api/v1/images/urls", bob, map[string]any{"ids": []string{}, "variants": []string{"pr:thumb"}}, 400, nil)
}
