package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/config"
)

// Regression (issue 10, item 5): a SIGKILLed server left its spool file
// (<data>/tmp/ingest-*) forever. A real server process is killed in the
// middle of spooling an upload; the next start removes that file and the
// other temp files an earlier process left (staging .record-*, blob put-*),
// keeps a peer's file newer than its start and every file that is not a
// temp file, and reports the count in a log line and a metric.
func TestStartupSweepsTempFilesOfAKilledServer(t *testing.T) {
	dir := t.TempDir()
	spool, staged := killMidUpload(t, dir)

	old := time.Now().Add(-time.Hour)
	plant := func(rel string, mtime time.Time) string {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("left over"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return p
	}
	gone := []string{spool, plant("staging/.record-123", old), plant("blobs/tmp/put-456", old)}
	kept := []string{
		staged, // a staged tus upload, not a temp file
		plant("tmp/ingest-peer", time.Now().Add(time.Minute)), // a peer's, newer than this start
		plant("tmp/notes.txt", old),                           // not ours
	}

	var logs bytes.Buffer
	cfg := config.Default()
	cfg.Server.DataDir = dir
	a, err := build(context.Background(), cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	for _, p := range gone {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived the start-up sweep (%v)", p, err)
		}
	}
	for _, p := range kept {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was swept: %v", p, err)
		}
	}
	if got := sweptMetric(t, a, "spool"); got != 1 {
		t.Errorf("imgmgr_startup_swept_temp_files{dir=spool} = %v, want 1", got)
	}
	if got := sweptMetric(t, a, "staging") + sweptMetric(t, a, "blobs"); got != 2 {
		t.Errorf("swept staging+blobs = %v, want 2", got)
	}
	if !strings.Contains(logs.String(), `"msg":"start-up: removed temp files left by an earlier process"`) {
		t.Errorf("no log line for the sweep in:\n%s", logs.String())
	}
}

// killMidUpload starts a real server process on dir, creates a tus upload,
// streams a multipart upload into it until its spool file exists, SIGKILLs
// it and returns the paths of the spool file and the tus record it left.
func killMidUpload(t *testing.T, dir string) (spool, staged string) {
	t.Helper()
	// The test binary runs main() (see TestMain); the arguments are split
	// on spaces, which a temp dir does not hold.
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "IMGMGR_TEST_RUN_MAIN=1", "IMGMGR_ADMIN_PASSWORD="+adminPassword,
		"IMGMGR_TEST_ARGS=serve --host 127.0.0.1 --port 0 --log-format json --data-dir "+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	base := "http://" + listenAddr(t, stdout)

	token := childLogin(t, base)
	tus, _ := http.NewRequest("POST", base+"/api/v1/uploads/", nil)
	tus.Header.Set("Authorization", "Bearer "+token)
	tus.Header.Set("Tus-Resumable", "1.0.0")
	tus.Header.Set("Upload-Length", "1000")
	if resp, err := http.DefaultClient.Do(tus); err != nil || resp.StatusCode != 201 {
		t.Fatalf("tus create on the child server: %v %v", resp, err)
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	req, _ := http.NewRequest("POST", base+"/api/v1/images", pr) // chunked: the body is a pipe
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	part, _ := mw.CreateFormFile("file", "big.jpg")
	if _, err := part.Write(bytes.Repeat([]byte{0xFF, 0xD8, 0xFF, 0xE0}, 512<<10)); err != nil { // 2 MiB, past the memory threshold
		t.Fatal(err)
	}
	spool = waitForFile(t, filepath.Join(dir, "tmp"), "ingest-")
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	pw.CloseWithError(io.ErrClosedPipe)
	if _, err := os.Stat(spool); err != nil {
		t.Fatalf("the killed server's spool file is not there to sweep: %v", err)
	}
	records, _ := filepath.Glob(filepath.Join(dir, "staging", "*.json"))
	if len(records) != 1 {
		t.Fatalf("staging records after the kill: %v, want one", records)
	}
	return spool, records[0]
}

// listenAddr reads the server's JSON log until its "http: listening" line.
func listenAddr(t *testing.T, stdout io.Reader) string {
	t.Helper()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "http: listening" {
			go io.Copy(io.Discard, stdout)
			return line.Addr
		}
	}
	t.Fatalf("the server exited before listening: %v", sc.Err())
	return ""
}

func childLogin(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"username":"admin","password":"`+adminPassword+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("login to the child server: %d %v", resp.StatusCode, err)
	}
	return out.AccessToken
}

// waitForFile polls dir until a file named prefix* holds bytes.
func waitForFile(t *testing.T, dir, prefix string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		matches, _ := filepath.Glob(filepath.Join(dir, prefix+"*"))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Size() > 0 {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s* file appeared in %s", prefix, dir)
	return ""
}

func sweptMetric(t *testing.T, a *app, dir string) float64 {
	t.Helper()
	mfs, err := a.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "imgmgr_startup_swept_temp_files" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "dir" && l.GetValue() == dir {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no imgmgr_startup_swept_temp_files{dir=%q}", dir)
	return 0
}
