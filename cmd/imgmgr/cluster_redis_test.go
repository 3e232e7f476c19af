package main

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// timed does one request and returns the response and how long it took.
func timed(t *testing.T, r *replica, path, token string) (*http.Response, string, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest("GET", r.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), time.Since(start)
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// One replica loses Redis (a real Redis behind a proxy that is cut): its
// API answers 503 + Retry-After at once, cached variants are still
// served, /readyz names redis, and everything recovers on its own once
// Redis is back. The latencies are logged for the note, not asserted.
func TestReplicaLosesRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	proxy := testenv.RedisProxy(t)
	c := newCluster(t, 1, map[string]any{"redis": map[string]any{"url": proxy.URL()}})
	r := c.reps[0]
	id := c.uploadMultipart("concert.jpg", photoBytes(t))
	variant := c.signedURL(id, "rs:fit:300:0@webp")
	if resp, _, _ := timed(t, r, variant, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("variant: %d", resp.StatusCode)
	}
	var warm, warmDown, apiDown []time.Duration
	for range 20 {
		_, _, d := timed(t, r, variant, "")
		warm = append(warm, d)
	}

	proxy.Cut()
	for range 20 {
		resp, body, d := timed(t, r, "/api/v1/me", c.token)
		apiDown = append(apiDown, d)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
			!strings.Contains(body, `"error"`) {
			t.Fatalf("/api/v1/me with Redis down: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	for range 20 {
		resp, _, d := timed(t, r, variant, "")
		warmDown = append(warmDown, d)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("cached variant with Redis down: %d", resp.StatusCode)
		}
	}
	resp, body, readyD := timed(t, r, "/readyz", "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "redis") {
		t.Fatalf("/readyz with Redis down: %d %s", resp.StatusCode, body)
	}

	proxy.Restore()
	back := time.Now()
	for {
		resp, _, _ := timed(t, r, "/api/v1/me", c.token)
		if resp.StatusCode == http.StatusOK {
			break
		}
		if time.Since(back) > 15*time.Second {
			t.Fatalf("not recovered 15s after Redis came back: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	recovered := time.Since(back)
	t.Logf("Redis down for one replica: /api 503 p50 %v max %v; cached variant p50 %v max %v (Redis up: p50 %v max %v); /readyz %v says %s; recovered %v after Redis returned",
		pct(apiDown, .5), pct(apiDown, 1), pct(warmDown, .5), pct(warmDown, 1), pct(warm, .5), pct(warm, 1),
		readyD, strings.TrimSpace(body), recovered.Round(time.Millisecond))
}
