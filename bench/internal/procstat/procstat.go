// Package procstat reads a server process's memory and CPU from /proc for
// the benchmark programs, and logs them in. Linux only; a pid of 0 reads
// as zeros, so a benchmark runs without one and just reports less.
package procstat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Status returns a "kB" field of /proc/PID/status (VmRSS, VmHWM) in bytes.
func Status(pid int, field string) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// RSS is the resident set of pid in bytes.
func RSS(pid int) int64 { return Status(pid, "VmRSS") }

// clockTicks is USER_HZ, 100 on Linux.
const clockTicks = 100

// CPUSeconds is the user+system CPU time of pid so far.
func CPUSeconds(pid int) float64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // after "pid (comm) "
	if len(fields) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / clockTicks
}

// WatchRSS samples pid's RSS every interval until the returned stop is
// called; stop returns the highest sample in bytes.
func WatchRSS(pid int, every time.Duration) (stop func() int64) {
	done, out := make(chan struct{}), make(chan int64, 1)
	go func() {
		var peak int64
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			peak = max(peak, RSS(pid))
			select {
			case <-done:
				out <- max(peak, RSS(pid))
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 { close(done); return <-out }
}

// Login returns an access token from base's /api/v1/auth/login.
func Login(base, user, password string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	resp, err := http.Post(strings.TrimRight(base, "/")+"/api/v1/auth/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.AccessToken == "" {
		return "", fmt.Errorf("login as %s: %s", user, resp.Status)
	}
	return out.AccessToken, nil
}
