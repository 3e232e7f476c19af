package delivery_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/localfs"
	"github.com/imgmgr/imgmgr/delivery"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/jobs"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/sqlite"
	"github.com/imgmgr/imgmgr/variant"
	"github.com/imgmgr/imgmgr/vips"
)

func TestMain(m *testing.M) {
	if err := vips.Startup(vips.Config{}); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}

var testKey = variant.Key{Key: hex.EncodeToString([]byte("test-key")), Salt: hex.EncodeToString([]byte("test-salt"))}

// env is a delivery service over a real SQLite store and a local blob
// directory, served through httpapi's error writer.
type env struct {
	t     *testing.T
	svc   *delivery.Service
	meta  meta.Store
	blobs *localfs.Store
	reg   *prometheus.Registry
	srv   *httptest.Server
	owner *imgmgr.User
}

func newEnv(t *testing.T, edit func(*delivery.Config), runner func(meta.Store, *prometheus.Registry) *jobs.Runner) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bs, err := localfs.New(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := delivery.Config{Keys: []variant.Key{testKey}, AllowUnsignedPresets: true,
		Presets: map[string]string{"thumb": "rs:fill:64:64", "card": "rs:fit:200:200"}}
	if edit != nil {
		edit(&cfg)
	}
	reg := prometheus.NewRegistry()
	var jr *jobs.Runner
	if runner != nil {
		jr = runner(st, reg)
	}
	svc, err := delivery.New(cfg, delivery.Deps{Images: st, Variants: st, Blobs: bs, Jobs: jr, URLs: st, Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	if jr != nil {
		jr.Start()
		t.Cleanup(func() { jr.Close() })
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := svc.ServeVariant(w, r); err != nil {
			httpapi.WriteError(w, r, slog.New(slog.DiscardHandler), err)
		}
	}))
	t.Cleanup(srv.Close)
	u := &imgmgr.User{Username: "owner", Role: imgmgr.RoleUser, PasswordHash: "x"}
	if err := st.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, svc: svc, meta: st, blobs: bs, reg: reg, srv: srv, owner: u}
}

// addImage stores a test image as an original and records its row.
func (e *env) addImage(file string, vis imgmgr.Visibility) *imgmgr.Image {
	e.t.Helper()
	b := testenv.ReadImage(e.t, file)
	hdr, err := vips.ProbeBuffer(b)
	if err != nil {
		e.t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	sha := hex.EncodeToString(sum[:])
	if _, err := e.blobs.Put(context.Background(), blob.OriginalKey(sha), bytes.NewReader(b)); err != nil {
		e.t.Fatal(err)
	}
	im := &imgmgr.Image{OwnerID: e.owner.ID, SHA256: sha, Size: int64(len(b)), Header: hdr, Filename: filepath.Base(file), Visibility: vis}
	if err := e.meta.CreateImage(context.Background(), im); err != nil {
		e.t.Fatal(err)
	}
	return im
}

func (e *env) sign(im *imgmgr.Image, opts, ext string, ttl time.Duration) string {
	e.t.Helper()
	u, err := e.svc.Signer().Sign(opts, im.ID, ext, ttl)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) get(method, path string, hdr ...string) response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, res.Header, b}
}

func (e *env) counter(name string, labels ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() != labels[i+1] {
						continue metric
					}
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}

func TestServeAndCache(t *testing.T) {
	e := newEnv(t, nil, nil)
	im := e.addImage("photo/2569067123_aca715a2ee_o.jpg", imgmgr.Public)
	path := e.sign(im, "rs:fit:300:300", "webp", 0)
	r := e.get("GET", path)
	if r.status != 200 || r.header.Get("Content-Type") != "image/webp" {
		t.Fatalf("GET: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if h, err := vips.ProbeBuffer(r.body); err != nil || h.Width != 300 || h.Format != "webp" {
		t.Fatalf("body: %+v %v", h, err)
	}
	etag, cc := r.header.Get("ETag"), r.header.Get("Cache-Control")
	if etag == "" || cc != "public, max-age=31536000, immutable" || r.header.Get("Content-Length") == "" {
		t.Errorf("headers: ETag %q, Cache-Control %q, Content-Length %q", etag, cc, r.header.Get("Content-Length"))
	}
	// Warm: from the cache, same bytes, no new render.
	r2 := e.get("GET", path)
	if r2.status != 200 || !bytes.Equal(r2.body, r.body) || r2.header.Get("Content-Type") != "image/webp" {
		t.Errorf("warm GET: %d, same body %v", r2.status, bytes.Equal(r2.body, r.body))
	}
	if n := e.counter("imgmgr_variant_renders_total"); n != 1 {
		t.Errorf("%v renders, want 1", n)
	}
	if n := e.counter("imgmgr_variant_cache_requests_total", "result", "hit"); n != 1 {
		t.Errorf("%v cache hits, want 1", n)
	}
	if r := e.get("GET", path, "If-None-Match", etag); r.status != 304 || len(r.body) != 0 {
		t.Errorf("If-None-Match: %d", r.status)
	}
	h := e.get("HEAD", path)
	if h.status != 200 || len(h.body) != 0 || h.header.Get("Content-Length") != r.header.Get("Content-Length") {
		t.Errorf("HEAD: %d, %d body bytes, length %q", h.status, len(h.body), h.header.Get("Content-Length"))
	}
	// The same options in another order hit the same cache entry.
	other := e.sign(im, "h:300/rs:fit:300", "webp", 0)
	if r := e.get("GET", other); r.status != 200 || r.header.Get("ETag") != etag {
		t.Errorf("reordered options: %d, ETag %q vs %q", r.status, r.header.Get("ETag"), etag)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t, nil, nil)
	pub := e.addImage("photo/concert.jpg", imgmgr.Public)
	priv := e.addImage("exif-orientation/Landscape_1.jpg", imgmgr.Private)
	good := e.sign(pub, "w:100", "jpg", 0)
	sig, rest, _ := strings.Cut(strings.TrimPrefix(good, "/img/"), "/")
	badSig := func(rest string) string { return "/img/" + sig + "/" + rest }
	unsigned := func(p string) string { return "/img/_/" + p }
	s := e.svc.Signer()
	bad, _ := s.Sign("w:100", "nope", "", 0)
	expired := "/img/" + s.Signature("/exp:1000/w:100/"+pub.ID) + "/exp:1000/w:100/" + pub.ID
	unknownOpt := "/img/" + s.Signature("/zz:1/"+pub.ID) + "/zz:1/" + pub.ID
	huge := "/img/" + s.Signature("/w:16000/el:1/"+pub.ID) + "/w:16000/el:1/" + pub.ID
	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"tampered", badSig(strings.Replace(rest, "w:100", "w:101", 1)), 403, "invalid_signature"},
		{"truncated signature", "/img/" + sig[:8] + "/" + rest, 403, "invalid_signature"},
		{"expired", expired, 410, "expired"},
		{"unknown option", unknownOpt, 400, "invalid_option"},
		{"result too large", huge, 422, "result_too_large"},
		{"missing image", bad, 404, "not_found"},
		{"private without expiry", e.sign(priv, "w:100", "", 0), 403, "expiry_required"},
		{"unsigned preset, private", unsigned("pr:thumb/" + priv.ID), 404, "not_found"},
		{"unsigned non-preset", unsigned("w:100/" + pub.ID), 403, "invalid_signature"},
		{"unsigned unknown preset", unsigned("pr:nope/" + pub.ID), 400, "invalid_option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get("GET", tt.path)
			if r.status != tt.status || !strings.Contains(string(r.body), `"`+tt.code+`"`) {
				t.Errorf("GET %s: %d %s, want %d %s", tt.path, r.status, r.body, tt.status, tt.code)
			}
		})
	}
	for _, ok := range []string{unsigned("pr:thumb/" + pub.ID), e.sign(priv, "w:100", "", time.Hour)} {
		if r := e.get("GET", ok); r.status != 200 {
			t.Errorf("GET %s: %d %s", ok, r.status, r.body)
		}
	}
	r := e.get("GET", e.sign(priv, "w:100", "", time.Hour))
	if cc := r.header.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=3") || strings.Contains(cc, "31536000") {
		t.Errorf("expiring URL: Cache-Control %q, want max-age up to the expiry", cc)
	}
}

func TestNegotiation(t *testing.T) {
	e := newEnv(t, nil, nil)
	im := e.addImage("photo/concert.jpg", imgmgr.Public)
	path := e.sign(im, "w:100", "", 0)
	for accept, want := range map[string]string{"image/avif,image/webp,*/*": "image/avif", "image/webp,*/*": "image/webp", "*/*": "image/jpeg"} {
		r := e.get("GET", path, "Accept", accept)
		if r.status != 200 || r.header.Get("Content-Type") != want || r.header.Get("Vary") != "Accept" {
			t.Errorf("Accept %q: %d %s Vary %q, want %s", accept, r.status, r.header.Get("Content-Type"), r.header.Get("Vary"), want)
		}
	}
}

// When nothing is resized and the re-encode is larger, the original goes
// out (in a format every client shows).
func TestOriginalWhenSmaller(t *testing.T) {
	e := newEnv(t, nil, nil)
	im := e.addImage("alpha/full-transparent.png", imgmgr.Public)
	r := e.get("GET", e.sign(im, "", "", 0), "Accept", "image/avif,image/webp,*/*")
	orig := testenv.ReadImage(t, "alpha/full-transparent.png")
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" || !bytes.Equal(r.body, orig) {
		t.Errorf("got %d %s (%d bytes), want the %d-byte original PNG", r.status, r.header.Get("Content-Type"), len(r.body), len(orig))
	}
	// Warm, from the cache, the type is still right.
	if r := e.get("GET", e.sign(im, "", "", 0), "Accept", "image/avif,image/webp,*/*"); r.header.Get("Content-Type") != "image/png" {
		t.Errorf("cached original served as %s", r.header.Get("Content-Type"))
	}
	// An explicit format is honoured.
	if r := e.get("GET", e.sign(im, "", "webp", 0)); r.header.Get("Content-Type") != "image/webp" {
		t.Errorf(".webp served as %s", r.header.Get("Content-Type"))
	}
}

// 50 concurrent identical cold requests cause exactly one render.
func TestSingleFlight(t *testing.T) {
	e := newEnv(t, func(c *delivery.Config) { c.RenderQueue = 100 }, nil)
	im := e.addImage("photo/2569067123_aca715a2ee_o.jpg", imgmgr.Public)
	path := e.sign(im, "rs:fit:800:800", "jpg", 0)
	var wg sync.WaitGroup
	bodies := make([][]byte, 50)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("status %d", res.StatusCode)
			}
			bodies[i], _ = io.ReadAll(res.Body)
		}()
	}
	wg.Wait()
	if n := e.counter("imgmgr_variant_renders_total"); n != 1 {
		t.Errorf("%v renders for 50 identical requests, want 1", n)
	}
	for i, b := range bodies {
		if !bytes.Equal(b, bodies[0]) || len(b) == 0 {
			t.Fatalf("response %d differs", i)
		}
	}
}

func TestDeleteVariantsAndEviction(t *testing.T) {
	e := newEnv(t, nil, nil)
	im := e.addImage("photo/concert.jpg", imgmgr.Public)
	ctx := context.Background()
	for _, o := range []string{"w:100", "w:120", "w:140"} {
		if r := e.get("GET", e.sign(im, o, "jpg", 0)); r.status != 200 {
			t.Fatal(r.status)
		}
	}
	recs, err := e.meta.ListVariantsBySHA(ctx, im.SHA256)
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d variants indexed (%v), want 3", len(recs), err)
	}
	if err := e.svc.DeleteVariants(ctx, im.SHA256); err != nil {
		t.Fatal(err)
	}
	if recs, _ := e.meta.ListVariantsBySHA(ctx, im.SHA256); len(recs) != 0 {
		t.Errorf("%d variants left in the index", len(recs))
	}
	for _, v := range recs {
		if _, err := e.blobs.Stat(ctx, blob.VariantKey(v.Key)); !imgmgr.IsNotFound(err) {
			t.Errorf("variant blob %s left: %v", v.Key, err)
		}
	}
}

func TestLRUEviction(t *testing.T) {
	e := newEnv(t, func(c *delivery.Config) { c.CacheMaxBytes = 6000 }, nil)
	im := e.addImage("photo/concert.jpg", imgmgr.Public)
	ctx := context.Background()
	var keys []string
	for _, o := range []string{"w:100", "w:101", "w:102", "w:103"} {
		time.Sleep(2 * time.Millisecond) // distinct access times
		keys = append(keys, strings.Trim(e.get("GET", e.sign(im, o, "jpg", 0)).header.Get("ETag"), `"`))
	}
	for { // eviction runs in the background; the test deadline bounds this
		size, err := e.meta.VariantCacheSize(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if size <= 6000 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	recs, _ := e.meta.ListVariantsBySHA(ctx, im.SHA256)
	left := map[string]bool{}
	for _, v := range recs {
		left[v.Key] = true
	}
	if left[keys[0]] || !left[keys[3]] {
		t.Errorf("after eviction: oldest kept %v, newest kept %v; want the oldest gone, the newest kept", left[keys[0]], left[keys[3]])
	}
	if n := e.counter("imgmgr_variant_cache_evictions_total"); n == 0 {
		t.Error("no eviction counted")
	}
}

func TestRenderTimeout(t *testing.T) {
	e := newEnv(t, func(c *delivery.Config) { c.RenderTimeout = time.Nanosecond }, nil)
	im := e.addImage("photo/concert.jpg", imgmgr.Public)
	r := e.get("GET", e.sign(im, "w:100", "jpg", 0))
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("timed-out render: %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if n := e.counter("imgmgr_variant_renders_total", "outcome", "timeout"); n != 1 {
		t.Errorf("%v timeouts counted", n)
	}
}

func TestEagerPresets(t *testing.T) {
	e := newEnv(t, func(c *delivery.Config) { c.EagerPresets = []string{"thumb"} }, func(st meta.Store, reg *prometheus.Registry) *jobs.Runner {
		r, err := jobs.New(jobs.Config{PollInterval: 20 * time.Millisecond}, st, reg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r
	})
	im := e.addImage("photo/concert.jpg", imgmgr.Public)
	if err := e.svc.EnqueueEager(context.Background(), im); err != nil {
		t.Fatal(err)
	}
	for { // avif, webp and jpeg of the thumb preset
		recs, err := e.meta.ListVariantsBySHA(context.Background(), im.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 3 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := e.get("GET", "/img/_/pr:thumb/"+im.ID, "Accept", "image/webp,*/*")
	if r.status != 200 || r.header.Get("Content-Type") != "image/webp" {
		t.Fatalf("%d %s", r.status, r.header.Get("Content-Type"))
	}
	if n := e.counter("imgmgr_variant_cache_requests_total", "result", "hit"); n != 1 {
		t.Errorf("eager variant not served from cache (%v hits)", n)
	}
}

func TestDefaultPreset(t *testing.T) {
	e := newEnv(t, func(c *delivery.Config) { c.DefaultPreset = "card" }, nil)
	im := e.addImage("photo/2569067123_aca715a2ee_o.jpg", imgmgr.Public)
	r := e.get("GET", e.sign(im, "", "jpg", 0))
	h, err := vips.ProbeBuffer(r.body)
	if r.status != 200 || err != nil || h.Width != 200 {
		t.Fatalf("default preset card (fit 200): %d %+v %v", r.status, h, err)
	}
	r = e.get("GET", e.sign(im, "w:100", "jpg", 0)) // URL options apply after it
	if h, _ := vips.ProbeBuffer(r.body); h.Width != 100 {
		t.Errorf("w:100 over the default preset: width %d", h.Width)
	}
}
