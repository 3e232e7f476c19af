// Package testenv finds the real services and files that tests use.
//
// A test that needs a service calls the matching function. When the service
// is not configured or does not answer, the test is skipped on a developer
// machine and fails when CI=true, so CI always exercises the real thing.
// The scripts under scripts/ start every service and export the variables.
// RedisProxy puts a proxy that a test can cut or stall between a client and
// the real Redis, for outage tests: a real network fault, not a fake.
package testenv

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// CI reports whether the tests run under CI (CI=true).
func CI() bool { return os.Getenv("CI") == "true" }

// missing skips the test, or fails it under CI.
func missing(t testing.TB, what string) {
	t.Helper()
	if CI() {
		t.Fatalf("%s is required under CI=true but is not available", what)
	}
	t.Skipf("%s not available (run `make test` to start it)", what)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// dialable reports whether a TCP address accepts a connection.
func dialable(addr string) bool {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// PostgresURL returns the URL of a real PostgreSQL server
// (IMGMGR_TEST_POSTGRES_URL, default the local server's "test" database).
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := env("IMGMGR_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	if !dialable(hostOf(u)) {
		missing(t, "PostgreSQL at "+hostOf(u))
	}
	return u
}

// RedisURL returns the URL of a real Redis server (IMGMGR_TEST_REDIS_URL).
func RedisURL(t testing.TB) string {
	t.Helper()
	u := env("IMGMGR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
	if !dialable(hostOf(u)) {
		missing(t, "Redis at "+hostOf(u))
	}
	return u
}

// ClamdAddress returns the address of a real clamd loaded with the EICAR
// test signature (IMGMGR_TEST_CLAMD_ADDRESS, default tcp://127.0.0.1:3310).
func ClamdAddress(t testing.TB) string {
	t.Helper()
	a := env("IMGMGR_TEST_CLAMD_ADDRESS", "tcp://127.0.0.1:3310")
	ok := false
	switch {
	case strings.HasPrefix(a, "tcp://"):
		ok = dialable(strings.TrimPrefix(a, "tcp://"))
	case strings.HasPrefix(a, "unix://"):
		c, err := net.DialTimeout("unix", strings.TrimPrefix(a, "unix://"), 2*time.Second)
		if ok = err == nil; ok {
			c.Close()
		}
	}
	if !ok {
		missing(t, "clamd at "+a)
	}
	return a
}

// S3 describes a real S3-compatible server for tests.
type S3 struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
	Bucket    string
}

// S3Server returns the S3 server the scripts started (MinIO), from
// IMGMGR_TEST_S3_ENDPOINT, _ACCESS_KEY, _SECRET_KEY and _BUCKET.
func S3Server(t testing.TB) S3 {
	t.Helper()
	s := S3{
		Endpoint:  env("IMGMGR_TEST_S3_ENDPOINT", "127.0.0.1:9000"),
		AccessKey: env("IMGMGR_TEST_S3_ACCESS_KEY", "imgmgrtest"),
		SecretKey: env("IMGMGR_TEST_S3_SECRET_KEY", "imgmgrtestsecret"),
		Bucket:    env("IMGMGR_TEST_S3_BUCKET", "imgmgr-test"),
	}
	if !dialable(s.Endpoint) {
		missing(t, "S3 server (MinIO) at "+s.Endpoint)
	}
	return s
}

// RepoRoot is the repository's top directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Image returns the path of a test image under testdata/images
// (see testdata/images/LICENSES.md), e.g. Image(t, "photo/concert.jpg").
func Image(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(), "testdata", "images", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test image %s: %v", rel, err)
	}
	return p
}

// ReadImage returns the bytes of a test image.
func ReadImage(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(Image(t, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Tool returns the path of a command-line program a test runs (curl, jq),
// skipping the test when it is not installed (failing under CI=true;
// scripts/deps.sh test installs it).
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, name)
	}
	return p
}
