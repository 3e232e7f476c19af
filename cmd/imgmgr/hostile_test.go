package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/privacy"
)

// hostileRow is one line of testdata/hostile/manifest.tsv.
type hostileRow struct {
	file     string
	statuses []int    // allowed HTTP statuses
	codes    []string // allowed error codes when refused
	what     string
}

// hostileDir is the corpus directory.
func hostileDir() string { return filepath.Join(testenv.RepoRoot(), "testdata", "hostile") }

// readManifest parses manifest.tsv and checks that it and the directory
// agree: every row names a file, every corpus file has a row.
func readManifest(t *testing.T) []hostileRow {
	t.Helper()
	f, err := os.Open(filepath.Join(hostileDir(), "manifest.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []hostileRow
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 {
			t.Fatalf("manifest line %q: %d columns, want 4", line, len(cols))
		}
		r := hostileRow{file: cols[0], what: cols[3]}
		for _, s := range strings.Split(cols[1], ",") {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("manifest %s: status %q", r.file, s)
			}
			r.statuses = append(r.statuses, n)
		}
		if cols[2] != "" {
			r.codes = strings.Split(cols[2], ",")
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(hostileDir())
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, e := range entries {
		if !e.IsDir() && e.Name() != "README.md" && e.Name() != "manifest.tsv" {
			onDisk = append(onDisk, e.Name())
		}
	}
	var listed []string
	for _, r := range rows {
		listed = append(listed, r.file)
	}
	slices.Sort(onDisk)
	slices.Sort(listed)
	if len(rows) == 0 || !slices.Equal(onDisk, listed) {
		t.Fatalf("manifest lists %v, the directory holds %v", listed, onDisk)
	}
	return rows
}

// hostileAnswer is what one upload path said about one file.
type hostileAnswer struct {
	status  int
	code    string // error code when refused
	imageID string // when accepted
}

func (a hostileAnswer) String() string {
	if a.code == "" {
		return strconv.Itoa(a.status)
	}
	return strconv.Itoa(a.status) + " " + a.code
}

// check reports an answer outside the row's allowed statuses and codes.
func (a hostileAnswer) check(t *testing.T, path string, r hostileRow) {
	t.Helper()
	if !slices.Contains(r.statuses, a.status) {
		t.Errorf("%s: status %s, want one of %v (%s)", path, a, r.statuses, r.what)
	}
	accepted := a.status >= 200 && a.status < 300
	if accepted && (a.imageID == "" || a.code != "") {
		t.Errorf("%s: %d without an image id (code %q)", path, a.status, a.code)
	}
	if !accepted && !slices.Contains(r.codes, a.code) {
		t.Errorf("%s: code %q, want one of %v", path, a.code, r.codes)
	}
}

// TestHostileCorpus feeds every file of testdata/hostile through multipart
// and tus against one real server with clamd: each gets an answer its
// manifest row allows, a refusal stores nothing (no rows, blobs, temp or
// staged files), an accepted file leaks no location into its variants and
// is deleted again, and afterwards the server is healthy and its
// goroutines and heap are back near their baseline.
func TestHostileCorpus(t *testing.T) {
	rows := readManifest(t)
	addr := testenv.ClamdAddress(t)
	ts := startServer(t, func(c *config.Config) { c.Scan.ClamdAddress = addr })
	good := testenv.ReadImage(t, "photo/concert.jpg")

	// Warm up both paths and the variant pipeline so that pools, caches
	// and lazily started workers exist before the baseline is taken.
	ts.hostileGood(t, good)
	baseG, baseHeap := settledGoroutines(ts, 0, 0), heapInUse()

	table := []string{"| file | multipart | tus |", "|---|---|---|"}
	for _, r := range rows {
		data := readFile(t, filepath.Join(hostileDir(), r.file))
		t.Run(r.file, func(t *testing.T) {
			ts := ts.as(t)
			mp := ts.hostileMultipart(r, data)
			tu := ts.hostileTus(r, data)
			table = append(table, fmt.Sprintf("| %s | %s | %s |", r.file, mp, tu))
		})
	}
	t.Logf("hostile corpus answers:\n%s", strings.Join(table, "\n"))

	ts.doJSON("GET", "/healthz", "", nil, 200, nil)
	ts.hostileGood(t, good)

	n, h := settledGoroutines(ts, baseG, 5), heapInUse()
	t.Logf("goroutines %d -> %d, heap in use %d -> %d MiB", baseG, n, baseHeap>>20, h>>20)
	if n > baseG+5 {
		var stacks bytes.Buffer
		pprof.Lookup("goroutine").WriteTo(&stacks, 1)
		t.Errorf("goroutines: %d after the corpus, %d before:\n%s", n, baseG, stacks.String())
	}
	const heapSlack = 64 << 20
	if h > baseHeap+heapSlack {
		t.Errorf("heap in use: %d MiB after the corpus, %d MiB before", h>>20, baseHeap>>20)
	}
}

// as returns ts reporting to t (a subtest): the helpers must not call
// FailNow on the parent from the subtest's goroutine.
func (ts *testServer) as(t *testing.T) *testServer {
	c := *ts
	c.t = t
	return &c
}

// hostileGood uploads a known-good file through both paths, checks its
// variants, and deletes it.
func (ts *testServer) hostileGood(t *testing.T, good []byte) {
	t.Helper()
	ts = ts.as(t)
	ok := hostileRow{file: "good.jpg", statuses: []int{201}, what: "a known-good JPEG"}
	if a := ts.hostileMultipart(ok, good); a.status != 201 {
		t.Fatalf("known-good multipart upload: %s", a)
	}
	ok.statuses = []int{204}
	if a := ts.hostileTus(ok, good); a.status != 204 {
		t.Fatalf("known-good tus upload: %s", a)
	}
}

// hostileMultipart posts data as the one file of a multipart upload.
func (ts *testServer) hostileMultipart(r hostileRow, data []byte) hostileAnswer {
	t := ts.t
	t.Helper()
	ts.mustBeClean("before multipart")
	status, out := ts.upload(ts.token, nil, filePart{r.file, data})
	a := hostileAnswer{status: status}
	switch {
	case out.Error != nil:
		a.code = out.Error.Code
	case len(out.Results) != 1:
		t.Errorf("multipart: %d results for one file", len(out.Results))
	case out.Results[0].Error != nil:
		a.code = out.Results[0].Error.Code
	case out.Results[0].Image != nil:
		a.imageID = out.Results[0].Image.ID
	}
	a.check(t, "multipart", r)
	ts.afterUpload("multipart", r.file, a)
	return a
}

// hostileTus creates an upload and sends data in one PATCH, whose answer
// is ingest's: 204 with Upload-Image-Id, or the error's status and JSON.
func (ts *testServer) hostileTus(r hostileRow, data []byte) hostileAnswer {
	t := ts.t
	t.Helper()
	ts.mustBeClean("before tus")
	resp := ts.do("POST", "/api/v1/uploads/", ts.token, nil, map[string]string{
		"Tus-Resumable":   "1.0.0",
		"Upload-Length":   strconv.Itoa(len(data)),
		"Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte(r.file)),
	})
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 201 || err != nil || loc.Path == "" {
		t.Fatalf("tus create: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = ts.do("PATCH", loc.Path, ts.token, bytes.NewReader(data), map[string]string{
		"Tus-Resumable": "1.0.0",
		"Content-Type":  "application/offset+octet-stream",
		"Upload-Offset": "0",
	})
	a := hostileAnswer{status: resp.StatusCode}
	if resp.StatusCode == 204 {
		resp.Body.Close()
		a.imageID = resp.Header.Get("Upload-Image-Id")
		if off := resp.Header.Get("Upload-Offset"); off != strconv.Itoa(len(data)) {
			t.Errorf("tus: Upload-Offset %q after the whole file (%d bytes)", off, len(data))
		}
	} else {
		a.code = errorCode(t, resp)
	}
	r.statuses = tusStatuses(r.statuses)
	a.check(t, "tus", r)

	// A refused upload leaves nothing to resume; an accepted one keeps only
	// its completed record (HEAD answers with the image id) until terminated.
	head := ts.do("HEAD", loc.Path, ts.token, nil, map[string]string{"Tus-Resumable": "1.0.0"})
	head.Body.Close()
	if a.imageID == "" {
		if head.StatusCode != 404 {
			t.Errorf("tus: HEAD of a refused upload: %d, want 404", head.StatusCode)
		}
		if left := stagedFiles(ts); len(left) > 0 {
			t.Errorf("tus: a refused upload left %v in staging", left)
		}
	} else {
		id := pathBase(loc.Path)
		if left := stagedFiles(ts); !slices.Equal(left, []string{id + ".json"}) {
			t.Errorf("tus: an accepted upload left %v in staging, want only its record %s.json", left, id)
		}
		del := ts.do("DELETE", loc.Path, ts.token, nil, map[string]string{"Tus-Resumable": "1.0.0"})
		del.Body.Close()
		if del.StatusCode != 204 {
			t.Errorf("tus: DELETE of a completed upload: %d, want 204", del.StatusCode)
		}
		if left := stagedFiles(ts); len(left) > 0 {
			t.Errorf("tus: after DELETE, staging holds %v", left)
		}
	}
	ts.afterUpload("tus", r.file, a)
	return a
}

// tusStatuses maps the manifest's statuses to tus's: success is 204 on
// the PATCH that completes the upload, not 201.
func tusStatuses(s []int) []int {
	out := slices.Clone(s)
	for i, n := range out {
		if n == 201 {
			out[i] = 204
		}
	}
	return out
}

// afterUpload checks what an answer left: nothing for a refusal; for an
// acceptance, clean variants, then nothing once the image is deleted.
func (ts *testServer) afterUpload(path, file string, a hostileAnswer) {
	t := ts.t
	t.Helper()
	if a.imageID != "" {
		ts.checkAccepted(path, file, a.imageID)
		ts.doJSON("DELETE", "/api/v1/images/"+a.imageID, ts.token, nil, 204, nil)
	}
	ts.mustBeClean(path + " " + a.String())
}

// mustBeClean fails when an image row, a blob (original or variant), a
// temp file or a staged upload exists.
func (ts *testServer) mustBeClean(when string) {
	t := ts.t
	t.Helper()
	st := ts.state()
	vars := countFiles(t, filepath.Join(ts.dir, "blobs", "var"))
	staged := stagedFiles(ts)
	if st != (state{}) || vars != 0 || len(staged) != 0 {
		t.Fatalf("%s: left %+v, %d variant blobs, staged %v", when, st, vars, staged)
	}
}

// hostileVariants are the renders asked of an accepted file: every output
// format, and a preset with a negotiated format.
var hostileVariants = []string{"rs:fit:300:0@jpg", "rs:fit:300:0@png", "rs:fit:300:0@webp", "rs:fit:64:0@avif", "pr:thumb"}

// checkAccepted checks an accepted file's original headers and its
// variants: each is an image, re-encoded (no appended archive or script)
// and with no location (EXIF GPS or XMP GPS).
func (ts *testServer) checkAccepted(path, file, id string) {
	t := ts.t
	t.Helper()
	resp := ts.do("GET", "/api/v1/images/"+id+"/original", ts.token, nil, nil)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "image/") || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s %s: original %d, Content-Type %q, nosniff %q", path, file, resp.StatusCode, ct, resp.Header.Get("X-Content-Type-Options"))
	}
	var signed struct{ URLs []string }
	ts.doJSON("POST", "/api/v1/images/"+id+"/urls", ts.token, map[string]any{"variants": hostileVariants}, 200, &signed)
	if len(signed.URLs) != len(hostileVariants) {
		t.Fatalf("%s %s: %d URLs for %d variants", path, file, len(signed.URLs), len(hostileVariants))
	}
	for i, u := range signed.URLs {
		resp := ts.do("GET", u, "", nil, nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ct := resp.Header.Get("Content-Type")
		if resp.StatusCode != 200 || !strings.HasPrefix(ct, "image/") {
			t.Errorf("%s %s: variant %s: %d %s: %.200s", path, file, hostileVariants[i], resp.StatusCode, ct, body)
			continue
		}
		if err := leaksLocation(strings.TrimPrefix(ct, "image/"), body); err != nil {
			t.Errorf("%s %s: variant %s: %v", path, file, hostileVariants[i], err)
		}
		for _, bad := range []string{"PK\x03\x04", "<script", "<?php"} {
			if bytes.Contains(body, []byte(bad)) {
				t.Errorf("%s %s: variant %s carries %q", path, file, hostileVariants[i], bad)
			}
		}
	}
}

// leaksLocation reports a location in an image: the EXIF GPS IFD (read by
// privacy.Read) or XMP GPS properties.
func leaksLocation(format string, b []byte) error {
	md, err := privacy.Read(format, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("reading its metadata: %w", err)
	}
	if md.Location != nil {
		return fmt.Errorf("it carries a location: %+v", *md.Location)
	}
	if bytes.Contains(b, []byte("exif:GPS")) || bytes.Contains(b, []byte("GPSLatitude")) {
		return fmt.Errorf("it carries XMP GPS properties")
	}
	return nil
}

// stagedFiles lists <data_dir>/staging.
func stagedFiles(ts *testServer) []string {
	entries, err := os.ReadDir(filepath.Join(ts.dir, "staging"))
	if err != nil {
		ts.t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func pathBase(p string) string { return p[strings.LastIndex(p, "/")+1:] }

// settledGoroutines closes the client's idle connections (the server's
// goroutines for them end) and waits, boundedly, for the count to drop to
// at most limit+slack; it returns the last count. limit 0 waits for the
// count to stop changing instead (a baseline).
func settledGoroutines(ts *testServer, limit, slack int) int {
	ts.srv.Client().CloseIdleConnections()
	deadline := time.Now().Add(15 * time.Second)
	prev := -1
	for {
		runtime.GC()
		n := runtime.NumGoroutine()
		if limit > 0 && n <= limit+slack || limit == 0 && n == prev || time.Now().After(deadline) {
			return n
		}
		prev = n
		time.Sleep(100 * time.Millisecond)
	}
}

// heapInUse is the Go heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// TestHostileCorpusGPSCheckCanFail makes sure the variant location check
// can fail: the corpus's GPS file carries a location before any stripping.
func TestHostileCorpusGPSCheckCanFail(t *testing.T) {
	b := readFile(t, filepath.Join(hostileDir(), "gps.jpg"))
	if err := leaksLocation("jpeg", b); err == nil {
		t.Fatal("gps.jpg shows no location: the variant check would pass vacuously")
	}
}
