package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/vips"
)

// TestMain lets a test run this binary's main as a child process (the
// start-up failure test checks the exit status and what is printed).
func TestMain(m *testing.M) {
	if os.Getenv("IMGMGR_TEST_RUN_MAIN") == "1" {
		os.Args = append(os.Args[:1], strings.Fields(os.Getenv("IMGMGR_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startupFailures are dependencies that cannot be reached at start-up:
// each must end start-up with one line naming its config key and cause.
func startupFailures(t *testing.T) []struct {
	name, key, cause string
	env              map[string]string
} {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	return []struct {
		name, key, cause string
		env              map[string]string
	}{
		{"database", "database.url", "connection refused",
			map[string]string{"IMGMGR_DATABASE_URL": "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=5"}},
		{"redis", "redis.url", "connection refused", map[string]string{"IMGMGR_REDIS_URL": "redis://127.0.0.1:1/0"}},
		{"s3", "storage.s3_endpoint", "connection refused", map[string]string{"IMGMGR_STORAGE_BACKEND": "s3",
			"IMGMGR_STORAGE_S3_ENDPOINT": "127.0.0.1:1", "IMGMGR_STORAGE_S3_BUCKET": "imgmgr",
			"IMGMGR_STORAGE_S3_ACCESS_KEY": "k", "IMGMGR_STORAGE_S3_SECRET_KEY": "secretsecret"}},
		// A clamd that is down is not fatal (uploads get 503 until it answers);
		// an address that cannot be used is.
		{"clamd", "scan.clamd_address", "missing port", map[string]string{"IMGMGR_SCAN_CLAMD_ADDRESS": "tcp://127.0.0.1"}},
		{"data dir", "server.data_dir", "not a directory", map[string]string{"IMGMGR_SERVER_DATA_DIR": filepath.Join(file, "data")}},
	}
}

// Regression: every failure inside build ended in a nil-pointer panic at
// the deferred close of a nil app. Now start-up returns one error naming
// the key and the cause, and closes what it opened: no goroutine or file
// descriptor is left behind.
func TestStartupFailureNamesTheKeyAndLeaksNothing(t *testing.T) {
	if err := vips.Startup(vips.Config{}); err != nil { // once per process: not a leak of build's
		t.Fatal(err)
	}
	for _, tc := range startupFailures(t) {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"IMGMGR_SERVER_DATA_DIR": t.TempDir(), "IMGMGR_SERVER_PORT": "0"}
			for k, v := range tc.env {
				env[k] = v
			}
			g0, fd0 := runtime.NumGoroutine(), openFDs(t)
			var out bytes.Buffer
			err := run(context.Background(), nil, strings.NewReader(""), &out, &out, func(k string) string { return env[k] })
			if err == nil {
				t.Fatal("start-up succeeded")
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.key+": ") || !strings.Contains(msg, tc.cause) || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line naming %s and %q", msg, tc.key, tc.cause)
			}
			settle(t, func() bool { return runtime.NumGoroutine() <= g0 && openFDs(t) <= fd0 },
				func() string {
					buf := make([]byte, 1<<16)
					return fmt.Sprintf("goroutines %d (were %d), fds %d (were %d)\n%s",
						runtime.NumGoroutine(), g0, openFDs(t), fd0, buf[:runtime.Stack(buf, true)])
				})
		})
	}
}

// The same failures from the real binary: exit status 1 and one line on
// stderr, never a panic.
func TestStartupFailureExitsOneWithOneLine(t *testing.T) {
	for _, tc := range startupFailures(t) {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "IMGMGR_TEST_RUN_MAIN=1", "IMGMGR_TEST_ARGS=serve --port 0",
				"IMGMGR_SERVER_DATA_DIR="+t.TempDir(), "IMGMGR_LOG_FORMAT=json")
			for k, v := range tc.env {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1; stderr:\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "imgmgr: config "+tc.key+": ") || !strings.Contains(lines[0], tc.cause) {
				t.Errorf("stderr = %q, want one line naming %s and %q", stderr.String(), tc.key, tc.cause)
			}
		})
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// settle waits (bounded) for ok, since goroutines and sockets of closed
// clients end shortly after Close returns; it fails with why() if they do not.
func settle(t *testing.T, ok func() bool, why func() string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("left behind: %s", why())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
