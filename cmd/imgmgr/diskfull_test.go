package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression (issue 10 item 4): a full disk (ENOSPC) while spooling,
// staging or storing answered 500. It answers 507 Insufficient Storage with
// Retry-After and the JSON error body, and leaves no temp file behind.
func TestDiskFullIs507AndLeavesNothing(t *testing.T) {
	data := testenv.SmallFS(t, 6<<20)
	db := filepath.Join(t.TempDir(), "imgmgr.db") // the metadata store is not what fills up here
	ts := startServer(t, func(c *config.Config) {
		c.Server.DataDir = data
		c.Database.URL = "sqlite:" + db
		c.Delivery.EagerPresets = nil
	})
	check := func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		json.Unmarshal(body, &e)
		if resp.StatusCode != http.StatusInsufficientStorage || resp.Header.Get("Retry-After") == "" || e.Error.Code != "insufficient_storage" {
			t.Fatalf("status %d, Retry-After %q, body %s; want 507 insufficient_storage with Retry-After",
				resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	upload := func(t *testing.T, size int) (*http.Response, []byte) {
		body, ct := multipartBody(t, nil, filePart{"big.jpg", paddedJPEG(t, size)})
		resp := ts.do("POST", "/api/v1/images", ts.token, body, map[string]string{"Content-Type": ct})
		return resp, readAll(t, resp)
	}
	t.Run("multipart: the spool fills the disk", func(t *testing.T) {
		resp, b := upload(t, 8<<20)
		check(t, resp, b)
		leftovers(t, data, 0)
	})
	t.Run("tus: staging fills the disk", func(t *testing.T) {
		img := paddedJPEG(t, 8<<20)
		resp := ts.do("POST", "/api/v1/uploads/", ts.token, nil, map[string]string{"Tus-Resumable": "1.0.0",
			"Upload-Length": strconv.Itoa(len(img))})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.StatusCode, readAll(t, resp))
		}
		loc := resp.Header.Get("Location")
		path := loc[strings.Index(loc, "/api/"):]
		resp = ts.do("PATCH", path, ts.token, bytes.NewReader(img), map[string]string{"Tus-Resumable": "1.0.0",
			"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
		check(t, resp, readAll(t, resp))
		leftovers(t, data, 8<<20) // the upload's own staged file, until DELETE
		head := ts.do("HEAD", path, ts.token, nil, map[string]string{"Tus-Resumable": "1.0.0"})
		if head.StatusCode != http.StatusOK {
			t.Fatalf("HEAD after a full disk: %d", head.StatusCode)
		}
		t.Logf("HEAD after the full disk: Upload-Offset %s (acknowledged bytes are kept)", head.Header.Get("Upload-Offset"))
		if resp := ts.do("DELETE", path, ts.token, nil, map[string]string{"Tus-Resumable": "1.0.0"}); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
		leftovers(t, data, 0)
	})
	t.Run("multipart: a nearly full disk", func(t *testing.T) {
		if resp, b := upload(t, 4<<20); resp.StatusCode != http.StatusCreated || !bytes.Contains(b, []byte(`"status":"created"`)) {
			t.Fatalf("first upload: %d %s", resp.StatusCode, b)
		}
		resp, b := upload(t, 3<<20)
		check(t, resp, b)
		leftovers(t, data, 4<<20) // the first image
	})
}

// leftovers fails if the data dir holds temp files of ingest, the blob
// store or staging, or more than allowed bytes and a few KiB (keys).
func leftovers(t *testing.T, dir string, allowed int64) {
	t.Helper()
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		info, _ := d.Info()
		total += info.Size()
		name := d.Name()
		if strings.HasPrefix(name, "ingest-") || strings.HasPrefix(name, "put-") || strings.HasPrefix(name, ".record-") {
			t.Errorf("left behind: %s (%d bytes)", p, info.Size())
		}
		return nil
	})
	if total > allowed+64<<10 {
		t.Errorf("%d bytes left in the data dir", total)
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
