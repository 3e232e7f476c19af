package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/imgmgr/imgmgr/events/ws"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// TestReplicas runs the multi-replica suite on three processes sharing
// PostgreSQL, Redis and MinIO. Subtests run in order and share the cluster;
// the ones that end or restart replicas come last.
func TestReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three servers")
	}
	c := newCluster(t, 3, nil)
	t.Run("a token from one replica works on the others", func(t *testing.T) {
		c := c.on(t)
		for range c.reps {
			c.expect(http.StatusOK, request{method: "GET", path: "/api/v1/me"})
		}
	})
	t.Run("multipart on one, read and delete on the others", func(t *testing.T) { testMultipartAcross(t, c) })
	t.Run("tus with every request on the next replica", func(t *testing.T) { testTusRoundRobin(t, c) })
	t.Run("one render cluster-wide for concurrent cold requests", func(t *testing.T) { testOneRender(t, c) })
	t.Run("events reach a WebSocket on another replica", func(t *testing.T) { testEventsAcross(t, c) })
	t.Run("tus finishes on another replica after SIGKILL mid-body", func(t *testing.T) { testTusKill(t, c) })
	t.Run("rolling restart fails no retried request", func(t *testing.T) { testRollingRestart(t, c) })
	t.Run("rate limits are global", func(t *testing.T) { testGlobalLimits(t, c) })
}

func testMultipartAcross(t *testing.T, c *cluster) {
	c = c.on(t)
	data := photoBytes(t)
	id := c.uploadMultipart("concert.jpg", data)
	_, _, b := c.expect(http.StatusOK, request{method: "GET", path: "/api/v1/images/" + id})
	sum := sha256.Sum256(data)
	if !bytes.Contains(b, []byte(hex.EncodeToString(sum[:]))) {
		t.Fatalf("image record lacks the sha256: %s", b)
	}
	_, _, orig := c.expect(http.StatusOK, request{method: "GET", path: "/api/v1/images/" + id + "/original"})
	if !bytes.Equal(orig, data) {
		t.Fatal("the original read on another replica differs")
	}
	c.expect(http.StatusNoContent, request{method: "DELETE", path: "/api/v1/images/" + id})
	for range c.reps {
		c.expect(http.StatusNotFound, request{method: "GET", path: "/api/v1/images/" + id})
	}
}

// paddedJPEG is a valid JPEG of about size bytes: a real photo with random
// comment segments after its start marker, unique on every call.
func paddedJPEG(t *testing.T, size int) []byte {
	jpeg := testenv.ReadImage(t, "photo/2569067123_aca715a2ee_o.jpg")
	out := bytes.NewBuffer(make([]byte, 0, size+len(jpeg)))
	out.Write(jpeg[:2])
	rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
	for need := size - len(jpeg); need >= 5; {
		n := min(65533, need-4)
		seg := make([]byte, n+4)
		seg[0], seg[1], seg[2], seg[3] = 0xFF, 0xFE, byte((n+2)>>8), byte(n+2)
		for i := 4; i < len(seg); i += 8 {
			v := rng.Uint64()
			for j := 0; j < 8 && i+j < len(seg); j++ {
				seg[i+j] = byte(v >> (8 * j))
			}
		}
		out.Write(seg)
		need -= n + 4
	}
	out.Write(jpeg[2:])
	return out.Bytes()
}

func tusHeader(kv ...string) http.Header {
	h := http.Header{"Tus-Resumable": {"1.0.0"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// tusCreate makes an upload of n bytes and returns its path.
func (c *cluster) tusCreate(n int) string {
	c.t.Helper()
	_, resp, _ := c.expect(http.StatusCreated, request{method: "POST", path: "/api/v1/uploads/",
		header: tusHeader("Upload-Length", strconv.Itoa(n), "Upload-Metadata", "filename "+base64.StdEncoding.EncodeToString([]byte("big.jpg")))})
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || u.Path == "" {
		c.t.Fatalf("Location %q", resp.Header.Get("Location"))
	}
	return u.Path
}

func (c *cluster) tusHead(path string) int64 {
	c.t.Helper()
	_, resp, _ := c.expect(http.StatusOK, request{method: "HEAD", path: path, header: tusHeader()})
	n, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		c.t.Fatalf("HEAD Upload-Offset %q", resp.Header.Get("Upload-Offset"))
	}
	return n
}

func patchRequest(path string, offset int64, body []byte) request {
	return request{method: "PATCH", path: path, body: bytes.NewReader(body), header: tusHeader(
		"Upload-Offset", strconv.FormatInt(offset, 10), "Content-Type", "application/offset+octet-stream")}
}

// imageSHA is the sha256 an image record reports.
func (c *cluster) imageSHA(id string) string {
	c.t.Helper()
	_, _, b := c.expect(http.StatusOK, request{method: "GET", path: "/api/v1/images/" + id})
	var im struct {
		SHA256 string `json:"sha256"`
	}
	json.Unmarshal(b, &im)
	return im.SHA256
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func testTusRoundRobin(t *testing.T, c *cluster) {
	c = c.on(t)
	data := paddedJPEG(t, 20<<20)
	path := c.tusCreate(len(data))
	const chunk = 6 << 20
	var id string
	for off := 0; off < len(data); off += chunk {
		if got := c.tusHead(path); got != int64(off) {
			t.Fatalf("HEAD before offset %d says %d", off, got)
		}
		end := min(off+chunk, len(data))
		_, resp, _ := c.expect(http.StatusNoContent, patchRequest(path, int64(off), data[off:end]))
		if got := resp.Header.Get("Upload-Offset"); got != strconv.Itoa(end) {
			t.Fatalf("PATCH to %d answered Upload-Offset %s", end, got)
		}
		id = resp.Header.Get("Upload-Image-Id")
	}
	if id == "" {
		t.Fatal("the last PATCH named no image")
	}
	if got := c.imageSHA(id); got != hexSHA(data) {
		t.Fatalf("stored sha256 %s, want %s", got, hexSHA(data))
	}
}

func testOneRender(t *testing.T, c *cluster) {
	c = c.on(t)
	id := c.uploadMultipart("concert.jpg", photoBytes(t))
	u := c.signedURL(id, "rs:fit:640:0/q:71@webp")
	before := c.clusterMetric("imgmgr_variant_renders_total", `outcome="ok"`) +
		c.clusterMetric("imgmgr_variant_renders_total", `outcome="original"`)
	var wg sync.WaitGroup
	bodies := make([][]byte, 30)
	for i := range bodies {
		r := c.rr()
		wg.Go(func() {
			resp, err := http.Get(r.url + u)
			if err != nil {
				t.Errorf("%s: %v", r.name, err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: %d %s", r.name, resp.StatusCode, b)
			}
			bodies[i] = b
		})
	}
	wg.Wait()
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("response %d differs from response 0", i)
		}
	}
	renders := c.clusterMetric("imgmgr_variant_renders_total", `outcome="ok"`) +
		c.clusterMetric("imgmgr_variant_renders_total", `outcome="original"`) - before
	t.Logf("30 concurrent cold requests over %d replicas: %v render(s) cluster-wide", len(c.reps), renders)
	if renders != 1 {
		t.Errorf("renders cluster-wide = %v, want exactly 1", renders)
	}
	for _, r := range c.reps {
		hits := c.metric(r, "imgmgr_variant_cache_requests_total", `result="hit"`)
		resp, b := c.send(r, request{method: "GET", path: u})
		if resp.StatusCode != http.StatusOK || !bytes.Equal(b, bodies[0]) {
			t.Errorf("%s warm: %d", r.name, resp.StatusCode)
		}
		if got := c.metric(r, "imgmgr_variant_cache_requests_total", `result="hit"`); got != hits+1 {
			t.Errorf("%s: the warm request was not a cache hit (hits %v -> %v)", r.name, hits, got)
		}
	}
}

func testEventsAcross(t *testing.T, c *cluster) {
	c = c.on(t)
	r := c.rr()
	ctx := ctxT(t, 30*time.Second)
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.url, "http")+"/api/v1/events",
		&websocket.DialOptions{Subprotocols: []string{ws.Protocol, ws.BearerPrefix + c.token}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	time.Sleep(200 * time.Millisecond) // the subscription is live once the upgrade is answered; leave Redis a moment
	id := c.uploadMultipart("concert.jpg", photoBytes(t))
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("no event for image %s on %s: %v", id, r.name, err)
		}
		if bytes.Contains(msg, []byte(id)) {
			return
		}
	}
}

// testTusKill SIGKILLs the replica that serves a PATCH mid-body; the
// upload is finished on another replica from the last acknowledged byte.
func testTusKill(t *testing.T, c *cluster) {
	c = c.on(t)
	data := paddedJPEG(t, 80<<20)
	path := c.tusCreate(len(data))
	victim := c.rr()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PATCH", victim.url+path, pr)
	req.Header = tusHeader("Upload-Offset", "0", "Content-Type", "application/offset+octet-stream",
		"Authorization", "Bearer "+c.token)
	req.ContentLength = int64(len(data))
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = errors.New("PATCH answered " + resp.Status)
		}
		errc <- err
	}()
	// Send until another replica reports a committed offset, then kill.
	sent, acked := 0, int64(0)
	for acked == 0 && sent < len(data)-(1<<20) {
		n := min(1<<20, len(data)-(1<<20)-sent)
		if _, err := pw.Write(data[sent : sent+n]); err != nil {
			t.Fatal(err)
		}
		sent += n
		acked = c.headOn(c.other(victim), path)
	}
	if acked == 0 {
		t.Fatalf("no offset acknowledged after %d bytes", sent)
	}
	victim.stop(t, syscall.SIGKILL)
	killedAt := time.Now()
	pw.CloseWithError(errors.New("client gone"))
	<-errc
	other := c.other(victim)
	got := c.headOn(other, path)
	t.Logf("killed %s after sending %d bytes; %s reports offset %d at once", victim.name, sent, other.name, got)
	if got < acked {
		t.Fatalf("offset went back from %d to %d", acked, got)
	}
	// The next PATCH succeeds once the dead holder's lock has lapsed (423 until then).
	victim.start(t) // back, as its pod would be: requests may land on it again
	for {
		sent := time.Now()
		resp, b := c.send(other, patchRequest(path, got, data[got:]))
		if resp.StatusCode == http.StatusLocked && time.Since(killedAt) < 15*time.Second {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("resuming PATCH on %s: %d %s", other.name, resp.StatusCode, b)
		}
		t.Logf("the dead holder's lock lapsed %v after the kill; %s took the rest", sent.Sub(killedAt).Round(time.Millisecond), other.name)
		if sha := c.imageSHA(resp.Header.Get("Upload-Image-Id")); sha != hexSHA(data) {
			t.Fatalf("stored sha256 %s, want %s", sha, hexSHA(data))
		}
		break
	}
}

// other is a live replica other than r.
func (c *cluster) other(r *replica) *replica {
	for {
		o := c.rr()
		if o != r {
			return o
		}
	}
}

func (c *cluster) headOn(r *replica, path string) int64 {
	c.t.Helper()
	resp, b := c.send(r, request{method: "HEAD", path: path, header: tusHeader()})
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("HEAD on %s: %d %s", r.name, resp.StatusCode, b)
	}
	n, _ := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	return n
}

// retrying sends req until a replica answers it, moving on to the next
// replica after a connection error or a 503 — what a client behind a load
// balancer that retries does. It fails the test on any other failure.
func (c *cluster) retrying(ctx context.Context, mk func() request, want int) []byte {
	for attempt := 0; ; attempt++ {
		r := c.rr()
		req := mk()
		hr, _ := http.NewRequestWithContext(ctx, req.method, r.url+req.path, req.body)
		for k, v := range req.header {
			hr.Header[k] = v
		}
		hr.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(hr)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == want {
				return b
			}
			if resp.StatusCode != http.StatusServiceUnavailable || attempt > 20 {
				c.t.Errorf("%s %s on %s: %d %s", req.method, req.path, r.name, resp.StatusCode, b)
				return nil
			}
		} else if ctx.Err() != nil || attempt > 20 {
			c.t.Errorf("%s %s: %v", req.method, req.path, err)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testRollingRestart restarts each replica in turn (SIGTERM, then start)
// while clients upload and fetch variants; a client that retries on
// another replica sees no failed request.
func testRollingRestart(t *testing.T, c *cluster) {
	c = c.on(t)
	id := c.uploadMultipart("concert.jpg", photoBytes(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var photo [][]byte // unique bytes, so no upload is a duplicate
	for range 20 {
		photo = append(photo, paddedJPEG(t, 100<<10))
	}
	var wg sync.WaitGroup
	var requests [2]int
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				if w == 0 {
					b := c.retrying(context.Background(), func() request {
						body, h := jsonBody(map[string]any{"variants": []string{"rs:fit:" + strconv.Itoa(100+i%400) + ":0"}})
						return request{method: "POST", path: "/api/v1/images/" + id + "/urls", body: body, header: h}
					}, http.StatusOK)
					var out struct {
						URLs []string `json:"urls"`
					}
					if json.Unmarshal(b, &out) != nil || len(out.URLs) != 1 {
						return
					}
					c.retrying(context.Background(), func() request { return request{method: "GET", path: out.URLs[0]} }, http.StatusOK)
				} else {
					c.retrying(context.Background(), func() request {
						body, ct := multipartBody(t, nil, filePart{"p.jpg", photo[i%len(photo)]})
						return request{method: "POST", path: "/api/v1/images", body: body, header: http.Header{"Content-Type": {ct}}}
					}, http.StatusCreated)
				}
				requests[w]++
			}
		})
	}
	for _, r := range c.reps {
		time.Sleep(300 * time.Millisecond)
		r.stop(t, syscall.SIGTERM)
		r.start(t)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	wg.Wait()
	t.Logf("during the rolling restart: %d variant requests, %d uploads", requests[0], requests[1])
}

func testGlobalLimits(t *testing.T, c *cluster) {
	c = c.on(t)
	// login_burst is 10 per client address (refilled at 30 a minute). Shared
	// through Redis, the logins over three replicas run out after about ten,
	// whichever replica answers; limits of each process alone would let 30
	// through before any 429.
	body := func() request {
		b, h := jsonBody(map[string]string{"username": "admin", "password": adminPassword})
		h.Set("Authorization", "none")
		return request{method: "POST", path: "/api/v1/auth/login", body: b, header: h}
	}
	var statuses []int
	for range 30 {
		resp, _ := c.send(c.rr(), body())
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			break
		}
	}
	t.Logf("login statuses: %v", statuses)
	if last := statuses[len(statuses)-1]; last != http.StatusTooManyRequests || len(statuses) > 16 {
		t.Fatalf("logins over three replicas were not limited as one: %v", statuses)
	}
}
