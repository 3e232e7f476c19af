package main

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/cdn/akamai/akamaitest"
	"github.com/imgmgr/imgmgr/cdn/aliyun/aliyuntest"
	"github.com/imgmgr/imgmgr/cdn/cdntest"
	"github.com/imgmgr/imgmgr/cdn/cloudflare/cloudflaretest"
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// cdnVendor starts a vendor's test server and returns the cdn config
// section pointing at it.
func cdnVendor(t *testing.T, name string) (map[string]any, cdntest.Vendor) {
	sec := map[string]any{"provider": name, "prefetch_presets": []string{"thumb"}}
	var v interface {
		cdntest.Vendor
		Close()
	}
	switch name {
	case "cloudflare":
		s := cloudflaretest.New(cloudflaretest.Options{})
		sec["cloudflare"] = map[string]any{"api_base": s.APIBase(), "zone_id": "zone-1", "api_token": "token-1"}
		v = s
	case "akamai":
		s := akamaitest.New(akamaitest.Options{EstimatedSeconds: 3})
		sec["akamai"] = map[string]any{"base_url": s.URL, "client_token": "ct-1", "client_secret": "secret-1",
			"access_token": "at-1", "network": "staging", "action": "invalidate"}
		v = s
	case "aliyun":
		s := aliyuntest.New(aliyuntest.Options{CompleteAfter: 3 * time.Second})
		sec["aliyun"] = map[string]any{"endpoint": s.URL, "access_key_id": "id-1", "access_key_secret": "secret-1"}
		v = s
	}
	t.Cleanup(v.Close)
	sec["public_base_url"] = v.EdgeURL()
	return sec, v
}

type apiTask struct {
	ID, Kind, State, Reason, Error string
	Attempts                       int
	VendorIDs                      []string `json:"vendor_ids"`
}

func (c *cluster) cdnTasks(state string) []apiTask {
	c.t.Helper()
	_, _, b := c.expect(http.StatusOK, request{method: "GET", path: "/api/v1/cdn/tasks?state=" + state})
	var out struct{ Tasks []apiTask }
	if err := json.Unmarshal(b, &out); err != nil {
		c.t.Fatalf("tasks: %s", b)
	}
	return out.Tasks
}

// waitTask waits until a task of kind and reason is in state want.
func (c *cluster) waitTask(kind, reason, want string, within time.Duration) apiTask {
	c.t.Helper()
	end := time.Now().Add(within)
	for {
		for _, tk := range c.cdnTasks("") {
			if tk.Kind == kind && tk.Reason == reason && tk.State == want {
				return tk
			}
		}
		if time.Now().After(end) {
			c.t.Fatalf("no %s task (%s) %s after %v: %+v", kind, reason, want, within, c.cdnTasks(""))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCDNEndToEnd runs the real binary against each vendor's test server:
// upload → the prefetch task is done → a variant carries the tag header →
// delete → the purge task is stored, the server is SIGKILLed before the
// vendor is done, and after a restart the task reaches done.
func TestCDNEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real processes")
	}
	for _, name := range []string{"cloudflare", "akamai", "aliyun"} {
		t.Run(name, func(t *testing.T) { cdnEndToEnd(t, name) })
	}
}

func cdnEndToEnd(t *testing.T, name string) {
	sec, vendor := cdnVendor(t, name)
	c := newCluster(t, 1, map[string]any{"cdn": sec})
	body, ct := multipartBody(t, map[string]string{"visibility": "public"},
		filePart{"photo.jpg", testenv.ReadImage(t, "photo/2569067123_aca715a2ee_o.jpg")})
	_, _, b := c.expect(http.StatusCreated, request{method: "POST", path: "/api/v1/images", body: body, header: http.Header{"Content-Type": {ct}}})
	var up uploadResp
	if err := json.Unmarshal(b, &up); err != nil || len(up.Results) != 1 || up.Results[0].Image == nil {
		t.Fatalf("upload: %s", b)
	}
	id := up.Results[0].Image.ID

	c.waitTask("prefetch", "image.upload", "done", 60*time.Second)
	if pf := vendor.Prefetched(); len(pf) == 0 || !strings.Contains(strings.Join(pf, "\n"), "/pr:thumb/"+id) {
		t.Fatalf("vendor prefetched %q", pf)
	}

	path := c.signedURL(id, "pr:thumb")
	resp, _ := c.send(c.reps[0], request{method: "GET", path: path, header: http.Header{"Accept": {"image/webp,*/*"}}})
	wantTag := map[string]string{"cloudflare": "Cache-Tag", "akamai": "Edge-Cache-Tag"}[name]
	if resp.StatusCode != 200 || (wantTag != "" && resp.Header.Get(wantTag) != "img-"+id+",imgmgr") {
		t.Fatalf("variant %d, %s: %q", resp.StatusCode, wantTag, resp.Header.Get(wantTag))
	}

	if name == "cloudflare" {
		vendor.Throttle(2) // purges are instant: keep the task waiting on 429s across the kill
	}
	c.expect(http.StatusNoContent, request{method: "DELETE", path: "/api/v1/images/" + id})
	var purge apiTask
	for _, tk := range c.cdnTasks("") {
		if tk.Reason == "image.delete" {
			purge = tk
		}
	}
	if purge.ID == "" || purge.State == "done" {
		t.Fatalf("purge task right after the delete: %+v", purge)
	}
	start := time.Now()
	time.Sleep(300 * time.Millisecond) // let the runner submit it
	_, _, b = c.expect(http.StatusOK, request{method: "GET", path: "/api/v1/cdn/tasks/" + purge.ID})
	t.Logf("%s: killed with the purge task %s", name, b)
	c.reps[0].stop(t, syscall.SIGKILL)
	c.reps[0].start(t)
	c.token = c.login("admin", adminPassword)
	done := c.waitTask(purge.Kind, "image.delete", "done", 60*time.Second)
	t.Logf("%s: purge task done %v after the kill: %+v", name, time.Since(start).Round(time.Millisecond), done)
	want := "tag:img-" + id
	if name == "aliyun" {
		want = sec["public_base_url"].(string) + path
	}
	if !slices.Contains(vendor.Purged(), want) {
		t.Fatalf("vendor purged %q, want %q among them", vendor.Purged(), want)
	}
}

// TestCDNAdminAPI drives the admin endpoints in process against the
// Cloudflare test server: purge by URL, tag and image, prefetch by URL,
// task listing and lookup, the admin-only rule, the JSON errors and the
// task gauge.
func TestCDNAdminAPI(t *testing.T) {
	srv := cloudflaretest.New(cloudflaretest.Options{})
	defer srv.Close()
	ts := startServer(t, func(c *config.Config) {
		c.CDN.Provider, c.CDN.PublicBaseURL = "cloudflare", srv.EdgeURL()
		c.CDN.Cloudflare.APIBase, c.CDN.Cloudflare.ZoneID, c.CDN.Cloudflare.APIToken = srv.APIBase(), "zone-1", "token-1"
	})
	var out struct{ Tasks []apiTask }
	ts.doJSON("POST", "/api/v1/cdn/purge", ts.token, map[string]any{"urls": []string{"/img/a/w:10/x", srv.EdgeURL() + "/img/b/w:10/y"}}, 202, &out)
	ts.doJSON("POST", "/api/v1/cdn/purge", ts.token, map[string]any{"tags": []string{"img-x"}}, 202, &out)
	ts.doJSON("POST", "/api/v1/cdn/prefetch", ts.token, map[string]any{"urls": []string{"/img/c/w:10/z"}}, 202, &out)
	if len(out.Tasks) != 1 || out.Tasks[0].Kind != "prefetch" || out.Tasks[0].State != "queued" {
		t.Fatalf("prefetch answer %+v", out)
	}
	id := out.Tasks[0].ID
	deadline := time.Now().Add(10 * time.Second)
	for {
		var tk apiTask
		ts.doJSON("GET", "/api/v1/cdn/tasks/"+id, ts.token, nil, 200, &tk)
		if tk.State == "done" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prefetch task %+v", tk)
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := []string{srv.EdgeURL() + "/img/a/w:10/x", srv.EdgeURL() + "/img/b/w:10/y", "tag:img-x"}
	if got := srv.Purged(); !slices.Equal(got, want) {
		t.Fatalf("purged %q, want %q", got, want)
	}
	ts.doJSON("GET", "/api/v1/cdn/tasks?state=done", ts.token, nil, 200, &out)
	if len(out.Tasks) != 3 {
		t.Fatalf("done tasks %+v", out.Tasks)
	}
	for _, bad := range []map[string]any{{}, {"urls": []string{"https://elsewhere.example/x"}}, {"tags": []string{"a"}, "urls": []string{"/x"}}} {
		resp := ts.do("POST", "/api/v1/cdn/purge", ts.token, strings.NewReader(mustJSON(bad)), map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode != 400 {
			t.Fatalf("purge %v: %d", bad, resp.StatusCode)
		}
		errorCode(t, resp)
	}
	if resp := ts.do("GET", "/api/v1/cdn/tasks?state=bogus", ts.token, nil, nil); resp.StatusCode != 400 || errorCode(t, resp) != "invalid_state" {
		t.Fatal("a bad state filter is not a 400 invalid_state")
	}
	if resp := ts.do("GET", "/api/v1/cdn/tasks/nope", ts.token, nil, nil); resp.StatusCode != 404 {
		t.Fatalf("unknown task: %d", resp.StatusCode)
	}
	user := ts.newUser("alice")
	if resp := ts.do("GET", "/api/v1/cdn/tasks", user, nil, nil); resp.StatusCode != 403 {
		t.Fatalf("a non-admin listed tasks: %d", resp.StatusCode)
	}
	resp := ts.do("GET", "/metrics", "", nil, nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{`imgmgr_cdn_tasks{kind="purge_tag",provider="cloudflare",state="done"} 1`,
		`imgmgr_cdn_vendor_requests_total{op="purge_url",provider="cloudflare",status="ok"} 1`, `imgmgr_cdn_task_duration_seconds_count`} {
		if !strings.Contains(string(b), m) {
			t.Errorf("metrics lack %s", m)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
