package main

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/events/ws"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Issue 9: with Redis lost by one replica, every /api request waited about
// 1.7s of dial retries before its 503, and a cached variant took as long
// because its view was counted on the response path. Now the replica fails
// fast while the breaker is open (503 + Retry-After, /readyz naming redis),
// serves cached variants at full speed, and recovers by itself.
func TestRedisDownFailsFastAndRecovers(t *testing.T) {
	p := testenv.RedisProxy(t)
	_, prefix := testenv.RedisClient(t) // the test's keys go when it ends
	ts := startServer(t, func(c *config.Config) { c.Redis.URL, c.Redis.Prefix = p.URL(), prefix })
	_, out := ts.upload(ts.token, map[string]string{"visibility": "public"}, filePart{"p.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	id := out.Results[0].Image.ID
	var signed struct{ URLs []string }
	ts.doJSON("POST", "/api/v1/images/"+id+"/urls", ts.token, map[string]any{"variants": []string{"pr:thumb"}}, 200, &signed)
	get := func(path, token string) (int, string, time.Duration, []byte) {
		start := time.Now()
		resp := ts.do("GET", path, token, nil, nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start), body
	}
	if code, _, _, _ := get(signed.URLs[0], ""); code != 200 { // rendered and cached
		t.Fatalf("variant before the cut: %d", code)
	}
	p.Cut()
	code, retry, first, _ := get("/api/v1/images", ts.token)
	if code != 503 || retry == "" {
		t.Fatalf("API with Redis cut: %d Retry-After %q, want 503 with Retry-After", code, retry)
	}
	var worstAPI, worstReady, worstVariant time.Duration
	for range 10 {
		code, retry, d, _ := get("/api/v1/images", ts.token)
		worstAPI = max(worstAPI, d)
		if code != 503 || retry == "" {
			t.Fatalf("API while the breaker is open: %d Retry-After %q", code, retry)
		}
		code, _, d, body := get("/readyz", "")
		worstReady = max(worstReady, d)
		var status map[string]string
		if json.Unmarshal(body, &status); code != 503 || status["redis"] != "unavailable" || status["database"] != "ok" {
			t.Fatalf("readyz while Redis is down: %d %s", code, body)
		}
		code, _, d, _ = get(signed.URLs[0], "")
		worstVariant = max(worstVariant, d)
		if code != 200 {
			t.Fatalf("cached variant while Redis is down: %d", code)
		}
	}
	start := time.Now()
	if got := eventsSocket(t, ts); got != "503" { // the per-IP limit needs Redis
		t.Fatalf("events WebSocket while Redis is down: %s, want 503", got)
	}
	t.Logf("events WebSocket refused (503) in %v", time.Since(start))
	t.Logf("Redis down: first API call answered 503 in %v; then the slowest of 10: API %v, /readyz %v, cached variant %v",
		first, worstAPI, worstReady, worstVariant)
	if worstAPI > time.Second || worstReady > time.Second || worstVariant > time.Second {
		t.Errorf("a call with Redis down was slow: API %v, readyz %v, variant %v", worstAPI, worstReady, worstVariant)
	}
	p.Restore()
	start = time.Now()
	for {
		if code, _, _, _ := get("/readyz", ""); code == 200 {
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatal("readiness did not recover within 5s of Redis coming back")
		}
		time.Sleep(10 * time.Millisecond)
	}
	recovered := time.Since(start)
	if code, _, _, _ := get("/api/v1/images", ts.token); code != 200 {
		t.Fatalf("API after recovery: %d", code)
	}
	t.Logf("recovered %v after Redis came back (target 2s)", recovered)
}

// eventsSocket opens the events WebSocket and says how it went: the HTTP
// status of a refused upgrade, "close N" for a close status, or "ready".
func eventsSocket(t *testing.T, ts *testServer) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(ts.srv.URL, "http") + "/api/v1/events"
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{ws.Protocol, ws.BearerPrefix + ts.token}})
	if err != nil {
		if resp == nil {
			t.Fatal(err)
		}
		return strconv.Itoa(resp.StatusCode)
	}
	defer c.CloseNow()
	if _, _, err := c.Read(ctx); err != nil {
		return "close " + strconv.Itoa(int(websocket.CloseStatus(err)))
	}
	return "ready"
}

// Under ratelimit.fail_open the API goes on while Redis is down.
func TestRedisDownFailOpen(t *testing.T) {
	p := testenv.RedisProxy(t)
	_, prefix := testenv.RedisClient(t) // the test's keys go when it ends
	ts := startServer(t, func(c *config.Config) { c.Redis.URL, c.Redis.Prefix, c.Rate.FailOpen = p.URL(), prefix, true })
	p.Cut()
	start := time.Now()
	if got := eventsSocket(t, ts); got != "close 1013" { // subscribing needs Redis
		t.Fatalf("events WebSocket under fail_open with Redis down: %s, want close 1013", got)
	}
	t.Logf("events WebSocket closed with 1013 in %v", time.Since(start))
	for range 3 {
		start := time.Now()
		resp := ts.do("GET", "/api/v1/images", ts.token, nil, nil)
		resp.Body.Close()
		if resp.StatusCode != 200 || time.Since(start) > time.Second {
			t.Fatalf("API under fail_open with Redis down: %d after %v", resp.StatusCode, time.Since(start))
		}
	}
}
