package tus_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/upload/tus"
)

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		header string
		want   tus.Metadata
		code   string
	}{
		{header: ""},
		{header: "filename " + b64("a.jpg"), want: tus.Metadata{Filename: "a.jpg"}},
		{header: "name " + b64("n.jpg") + ",type " + b64("image/jpeg"), want: tus.Metadata{Filename: "n.jpg"}},
		{header: "filename " + b64("f.jpg") + ",name " + b64("n.jpg"), want: tus.Metadata{Filename: "f.jpg"}},
		{header: "title " + b64("Été") + ", album " + b64("Trips"), want: tus.Metadata{Title: "Été", Album: "Trips"}},
		{header: "tags " + b64("Sea, sun,sea"), want: tus.Metadata{Tags: []string{"sea", "sun"}}},
		{header: "visibility " + b64("public"), want: tus.Metadata{Visibility: imgmgr.Public}},
		{header: "is_confidential", want: tus.Metadata{}},
		{header: "filetype " + b64("image/png"), want: tus.Metadata{Filetype: "image/png"}},
		{header: "filename", want: tus.Metadata{}},
		{header: "filename YS5qcGc", code: "invalid_metadata"},         // unpadded
		{header: "filename YS5qcGc=x", code: "invalid_metadata"},       // trailing garbage
		{header: "filename  YS5qcGc=", code: "invalid_metadata"},       // two spaces
		{header: "filename YS5q cGc=", code: "invalid_metadata"},       // space inside
		{header: ",filename YS5qcGc=", code: "invalid_metadata"},       // empty key
		{header: "a YQ==,a YQ==", code: "invalid_metadata"},            // repeated key
		{header: "fïlename YQ==", code: "invalid_metadata"},            // non-ASCII key
		{header: "title " + b64("a\x00b"), code: "invalid_metadata"},   // control character
		{header: "title " + b64("\xff\xfe"), code: "invalid_metadata"}, // not UTF-8
		{header: "visibility " + b64("everyone"), code: "invalid_metadata"},
		{header: "title " + b64(strings.Repeat("x", 1025)), code: "invalid_metadata"},
		{header: "k " + strings.Repeat("QUFB", 1500), code: "invalid_metadata"}, // header too long
		{header: "tags " + b64(strings.Repeat("t", 65)), code: "invalid_tag"},
	}
	for _, tt := range tests {
		got, err := tus.ParseMetadata(tt.header, 4096)
		if tt.code != "" {
			if imgmgr.CodeOf(err) != tt.code || imgmgr.KindOf(err) != imgmgr.KindInvalid {
				t.Errorf("ParseMetadata(%.40q) error %v, want code %s", tt.header, err, tt.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMetadata(%.40q): %v", tt.header, err)
			continue
		}
		if got.Filename != tt.want.Filename || got.Title != tt.want.Title || got.Album != tt.want.Album ||
			got.Visibility != tt.want.Visibility || got.Filetype != tt.want.Filetype ||
			strings.Join(got.Tags, ",") != strings.Join(tt.want.Tags, ",") {
			t.Errorf("ParseMetadata(%.40q) = %+v, want %+v", tt.header, got, tt.want)
		}
	}
}

// Regression: a PATCH whose body ends exactly on a checkpoint at the end of
// the upload failed, because the checkpoint had committed the last byte.
func TestCheckpointAtUploadEnd(t *testing.T) {
	e := newEnv(t, tus.Config{CheckpointBytes: 4096})
	data := payload(8192)
	u := e.create(8192)
	resp := e.patch(u, 0, data)
	wantStatus(t, resp, http.StatusNoContent)
	wantHeader(t, resp, "Upload-Image-Id", "img1")
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  tus.Config
		ok   bool
	}{
		{"defaults", tus.Config{}, true},
		{"base path without slash", tus.Config{BasePath: "/files"}, false},
		{"relative public URL", tus.Config{PublicURL: "img.example.org"}, false},
		{"negative max size", tus.Config{MaxSize: -1}, false},
		{"expiry under a minute", tus.Config{Expiry: time.Second}, false},
		{"huge buffer", tus.Config{BufferBytes: 64 << 20}, false},
		{"negative limit", tus.Config{MaxConcurrentPerUser: -1}, false},
	}
	for _, tt := range tests {
		if err := tt.cfg.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
}

// Past a user's bound on requests carrying bytes at once: 503 + Retry-After.
func TestConcurrentUploadsPerUser(t *testing.T) {
	e := newEnv(t, tus.Config{MaxConcurrentPerUser: 1, LockStaleAfter: time.Minute})
	a, b := e.create(1000), e.create(1000)
	pw, first := e.slowPatch(a, 0, 1000)
	pw.Write(payload(10))
	waitFor(t, func() bool { return e.stagedSize(a) >= 10 })
	resp := e.patch(b, 0, payload(10))
	wantStatus(t, resp, http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	bobs := e.create(10, "X-Test-User", "bob") // another user has his own bound
	wantStatus(t, e.patch(bobs, 0, payload(10), "X-Test-User", "bob"), http.StatusNoContent)
	pw.Write(payload(990))
	pw.Close()
	<-first
	wantStatus(t, e.patch(b, 0, payload(10)), http.StatusNoContent)
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, tus.Config{})
	reg := prometheus.NewRegistry()
	h, err := tus.New(t.Context(), tus.Config{}, tus.Deps{Store: e.store, Ingest: e.ingest, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	e.h = h
	u := e.create(100)
	e.patch(u, 0, payload(100))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "/" + l.GetValue()
			}
			switch mf.GetType() {
			case dto.MetricType_GAUGE:
				got[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				got[key] = float64(m.GetHistogram().GetSampleCount())
			default:
				got[key] = m.GetCounter().GetValue()
			}
		}
	}
	want := map[string]float64{"imgmgr_tus_received_bytes_total": 100,
		"imgmgr_tus_uploads_total/created": 1, "imgmgr_tus_uploads_total/completed": 1,
		"imgmgr_tus_uploads_in_flight": 0, "imgmgr_tus_upload_duration_seconds": 1}
	if len(got) != len(want) {
		t.Fatalf("metrics %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("metrics %v, want %v", got, want)
		}
	}
}
