package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// The multi-replica suite: real imgmgr processes on loopback sharing one
// PostgreSQL schema, one Redis prefix and one MinIO prefix, driven by a
// client that sends every request to the next replica (no affinity), the
// way a plain Kubernetes Service spreads them.

// replica is one imgmgr process (this test binary re-executed as main, see
// TestMain) on a port and data directory of its own.
type replica struct {
	name string
	port int
	dir  string
	conf string
	url  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
}

// syncBuffer collects a child's output for failure messages.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the process and waits until it is ready.
func (r *replica) start(t *testing.T) {
	t.Helper()
	r.out = &syncBuffer{}
	r.cmd = exec.Command(os.Args[0], "-test.run=^$")
	r.cmd.Env = append(os.Environ(), "IMGMGR_TEST_RUN_MAIN=1",
		fmt.Sprintf("IMGMGR_TEST_ARGS=serve --config %s --port %d --data-dir %s", r.conf, r.port, r.dir),
		"IMGMGR_ADMIN_USERNAME=admin", "IMGMGR_ADMIN_PASSWORD="+adminPassword, "IMGMGR_LOG_FORMAT=json")
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.done = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(r.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-r.done:
			t.Fatalf("%s exited during start-up:\n%s", r.name, r.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after 60s:\n%s", r.name, r.out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop signals the process and waits for it to end.
func (r *replica) stop(t *testing.T, sig syscall.Signal) {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	r.cmd.Process.Signal(sig)
	select {
	case <-r.done:
	case <-time.After(60 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
		t.Errorf("%s did not stop within 60s after %v", r.name, sig)
	}
}

// cluster is n replicas over shared services, and a round-robin client.
type cluster struct {
	t     *testing.T // of the (sub)test using it: see on
	reps  []*replica
	next  *atomic.Uint64
	token string
}

// on is c for the subtest t (helpers fail t, not the parent test).
func (c *cluster) on(t *testing.T) *cluster {
	cc := *c
	cc.t = t
	return &cc
}

// clusterConfig is the JSON config every replica reads: what they share.
func clusterConfig(t *testing.T, extra map[string]any) map[string]any {
	s3 := testenv.S3Server(t)
	prefix := "t" + randomHex(6)
	t.Logf("shared prefix %s", prefix)
	cfg := map[string]any{
		"database": map[string]any{"url": testenv.PostgresSchemaURL(t)},
		"storage": map[string]any{"backend": "s3", "s3_endpoint": s3.Endpoint, "s3_bucket": s3.Bucket,
			"s3_access_key": s3.AccessKey, "s3_secret_key": s3.SecretKey, "s3_prefix": prefix + "/"},
		"redis": map[string]any{"url": testenv.RedisURL(t), "prefix": "imgmgr-" + prefix + ":"},
		"auth":  map[string]any{"jwt_key": randomHex(32)},
		"delivery": map[string]any{"keys": []map[string]string{{"key": randomHex(32), "salt": randomHex(32)}},
			"eager_presets": []string{}},
		"log": map[string]any{"level": "info"},
	}
	for section, v := range extra {
		m, ok := cfg[section].(map[string]any)
		if !ok {
			cfg[section] = v
			continue
		}
		for k, x := range v.(map[string]any) {
			m[k] = x
		}
	}
	return cfg
}

// newCluster starts n replicas; extra overrides config sections.
func newCluster(t *testing.T, n int, extra map[string]any) *cluster {
	t.Helper()
	cfg := clusterConfig(t, extra)
	conf := filepath.Join(t.TempDir(), "config.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, next: new(atomic.Uint64)}
	for i := range n {
		port := freePort(t)
		r := &replica{name: fmt.Sprintf("replica%d", i+1), port: port, dir: t.TempDir(), conf: conf,
			url: fmt.Sprintf("http://127.0.0.1:%d", port), out: &syncBuffer{}}
		c.reps = append(c.reps, r)
	}
	t.Cleanup(func() {
		for _, r := range c.reps {
			r.stop(t, syscall.SIGTERM)
		}
		if t.Failed() {
			for _, r := range c.reps {
				t.Logf("--- %s output:\n%s", r.name, tail(r.out.String(), 40))
			}
		}
	})
	// The first start migrates the shared schema; the others find it done.
	c.reps[0].start(t)
	var wg sync.WaitGroup
	for _, r := range c.reps[1:] {
		wg.Go(func() { r.start(t) })
	}
	wg.Wait()
	c.token = c.login("admin", adminPassword)
	return c
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// rr is the replica the next request goes to.
func (c *cluster) rr() *replica { return c.reps[int(c.next.Add(1)-1)%len(c.reps)] }

// request is one HTTP request of the suite.
type request struct {
	method, path string
	body         io.Reader
	header       http.Header
}

// send sends req to r and returns the response with its body read.
func (c *cluster) send(r *replica, req request) (*http.Response, []byte) {
	c.t.Helper()
	hr, err := http.NewRequest(req.method, r.url+req.path, req.body)
	if err != nil {
		c.t.Fatal(err)
	}
	for k, v := range req.header {
		hr.Header[k] = v
	}
	if hr.Header.Get("Authorization") == "" && c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		c.t.Fatalf("%s %s on %s: %v", req.method, req.path, r.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s on %s: reading body: %v", req.method, req.path, r.name, err)
	}
	return resp, b
}

// expect sends req to the next replica and checks the status.
func (c *cluster) expect(status int, req request) (*replica, *http.Response, []byte) {
	c.t.Helper()
	r := c.rr()
	resp, b := c.send(r, req)
	if resp.StatusCode != status {
		c.t.Fatalf("%s %s on %s: %d, want %d: %s", req.method, req.path, r.name, resp.StatusCode, status, b)
	}
	return r, resp, b
}

func jsonBody(v any) (io.Reader, http.Header) {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b), http.Header{"Content-Type": {"application/json"}}
}

func (c *cluster) login(user, pw string) string {
	c.t.Helper()
	body, h := jsonBody(map[string]string{"username": user, "password": pw})
	h.Set("Authorization", "none")
	_, _, b := c.expect(http.StatusOK, request{method: "POST", path: "/api/v1/auth/login", body: body, header: h})
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.AccessToken == "" {
		c.t.Fatalf("login: %s", b)
	}
	return out.AccessToken
}

// uploadMultipart uploads one file and returns the image's id.
func (c *cluster) uploadMultipart(name string, data []byte) string {
	c.t.Helper()
	body, ct := multipartBody(c.t, nil, filePart{name, data})
	_, _, b := c.expect(http.StatusCreated, request{method: "POST", path: "/api/v1/images", body: body,
		header: http.Header{"Content-Type": {ct}}})
	var out struct {
		Results []struct {
			Status string `json:"status"`
			Image  struct {
				ID string `json:"id"`
			} `json:"image"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Results) != 1 || out.Results[0].Image.ID == "" {
		c.t.Fatalf("upload: %s", b)
	}
	return out.Results[0].Image.ID
}

// signedURL asks (some replica) for the signed URL of a variant.
func (c *cluster) signedURL(id, opts string) string {
	c.t.Helper()
	body, h := jsonBody(map[string]any{"variants": []string{opts}})
	_, _, b := c.expect(http.StatusOK, request{method: "POST", path: "/api/v1/images/" + id + "/urls", body: body, header: h})
	var out struct {
		URLs []string `json:"urls"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.URLs) != 1 {
		c.t.Fatalf("urls: %s", b)
	}
	return out.URLs[0]
}

// metric sums the samples of a Prometheus counter on one replica whose
// labels contain every one of labels (e.g. `outcome="ok"`).
func (c *cluster) metric(r *replica, name string, labels ...string) float64 {
	c.t.Helper()
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
lines:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(line, l) {
				continue lines
			}
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

// clusterMetric sums metric over every replica.
func (c *cluster) clusterMetric(name string, labels ...string) float64 {
	var sum float64
	for _, r := range c.reps {
		sum += c.metric(r, name, labels...)
	}
	return sum
}

func photoBytes(t *testing.T) []byte {
	return testenv.ReadImage(t, "photo/concert.jpg")
}

// ctxT bounds one step of the suite.
func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
