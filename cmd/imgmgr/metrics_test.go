package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/imgmgr/imgmgr/cdn/cloudflare/cloudflaretest"
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/metricsdoc"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// TestMetricsTable holds docs/metrics.md and the metrics the real server
// exports in step: it drives every path that records a metric (multipart
// and tus uploads with clamd, readiness, a cold, a warm and a revalidated
// variant under a Redis render lease, the eager-variant job), then fails on an
// exported name the table lacks, a name in the table that is not exported,
// or a type or label set that differs.
func TestMetricsTable(t *testing.T) {
	clamd := testenv.ClamdAddress(t)
	_, prefix := testenv.RedisClient(t) // the test's keys go when it ends
	cf := cloudflaretest.New(cloudflaretest.Options{})
	defer cf.Close()
	ts := startServer(t, func(c *config.Config) {
		c.Scan.ClamdAddress = clamd
		c.Redis.URL, c.Redis.Prefix = testenv.RedisURL(t), prefix
		c.Delivery.EagerPresets = []string{"thumb"}
		c.CDN.Provider, c.CDN.PublicBaseURL = "cloudflare", cf.EdgeURL()
		c.CDN.Cloudflare.APIBase, c.CDN.Cloudflare.ZoneID, c.CDN.Cloudflare.APIToken = cf.APIBase(), "zone-1", "token-1"
	})
	ts.driveEveryMetric()
	ts.driveCDN()

	exported := ts.exportedMetrics()
	rows, err := metricsdoc.Read(testenv.RepoRoot() + "/docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, row := range rows {
		if documented[row.Name] {
			t.Errorf("%s: in the table twice", row.Name)
		}
		documented[row.Name] = true
		mf, ok := exported[row.Name]
		if !ok {
			t.Errorf("%s: in docs/metrics.md but not exported (stale row, or a path this test does not drive)", row.Name)
			continue
		}
		if typ := strings.ToLower(mf.GetType().String()); typ != row.Type {
			t.Errorf("%s: exported as a %s, documented as a %s", row.Name, typ, row.Type)
		}
		if got := labelNames(mf); !slices.Equal(got, sorted(row.Labels)) {
			t.Errorf("%s: exported with labels %v, documented with %v", row.Name, got, row.Labels)
		}
	}
	for name := range exported {
		if !documented[name] && !metricsdoc.StandardPrefix(name) {
			t.Errorf("%s: exported but not in docs/metrics.md", name)
		}
	}
}

// driveCDN purges a tag and waits for the task to be done, so that the
// CDN metrics have series.
func (ts *testServer) driveCDN() {
	ts.t.Helper()
	var out struct{ Tasks []apiTask }
	ts.doJSON("POST", "/api/v1/cdn/purge", ts.token, map[string]any{"tags": []string{"img-x"}}, 202, &out)
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var tk apiTask
		ts.doJSON("GET", "/api/v1/cdn/tasks/"+out.Tasks[0].ID, ts.token, nil, 200, &tk)
		if tk.State == "done" {
			return
		}
		if time.Now().After(end) {
			ts.t.Fatalf("CDN task not done: %+v", tk)
		}
	}
}

// driveEveryMetric runs the requests after which every metric of the
// table has a series.
func (ts *testServer) driveEveryMetric() {
	t := ts.t
	t.Helper()
	if resp := ts.do("GET", "/readyz", "", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz: %d", resp.StatusCode)
	}
	jpeg := testenv.ReadImage(t, "photo/concert.jpg")
	if status, _ := ts.upload(ts.token, nil, filePart{"x.txt", []byte("not an image")}); status == http.StatusCreated {
		t.Fatalf("a text file was accepted")
	}
	_, up := ts.upload(ts.token, nil, filePart{"a.jpg", jpeg})
	id := up.Results[0].Image.ID
	ts.tusUpload(t, testenv.ReadImage(t, "icc/p3.png"), "filename "+b64("p3.png"))

	var signed struct{ URLs []string }
	ts.doJSON("POST", "/api/v1/images/"+id+"/urls", ts.token, map[string]any{"variants": []string{"rs:fit:300:0@webp"}}, 200, &signed)
	var etag string
	for range 2 { // cold, then warm
		resp := ts.do("GET", signed.URLs[0], "", nil, nil)
		readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("variant: %d", resp.StatusCode)
		}
		etag = resp.Header.Get("ETag")
	}
	resp := ts.do("GET", signed.URLs[0], "", nil, map[string]string{"If-None-Match": etag})
	readAll(t, resp)

	deadline := time.Now().Add(60 * time.Second) // the eager-variant job runs in the background
	for ts.exportedMetrics()["imgmgr_jobs_total"] == nil {
		if time.Now().After(deadline) {
			t.Fatal("no background job ran within 60 s of an upload")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exportedMetrics gathers the app's registry, which /metrics serves.
func (ts *testServer) exportedMetrics() map[string]*dto.MetricFamily {
	ts.t.Helper()
	mfs, err := ts.app.reg.Gather()
	if err != nil {
		ts.t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// labelNames is the sorted union of the label names of mf's series.
func labelNames(mf *dto.MetricFamily) []string {
	var out []string
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if !slices.Contains(out, l.GetName()) {
				out = append(out, l.GetName())
			}
		}
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}
