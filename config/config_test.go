package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func load(t *testing.T, file string, env map[string]string, args ...string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	f := NewFlags(fs)
	if file != "" {
		p := filepath.Join(t.TempDir(), "c.json")
		if err := os.WriteFile(p, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", p)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return Load(f, func(k string) string { return env[k] })
}

func TestDefaults(t *testing.T) {
	c, err := load(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Port != 8080 || c.Server.DataDir != "./data" || c.Storage.Backend != "local" || c.Database.URL != "" {
		t.Fatalf("defaults: %+v", c.Server)
	}
}

func TestPrecedence(t *testing.T) {
	file := `{"server":{"port":9000,"data_dir":"/srv/a"},"scan":{"timeout":"5s"},"log":{"level":"warn"}}`
	c, err := load(t, file, map[string]string{"IMGMGR_SERVER_PORT": "9100", "IMGMGR_SCAN_CLAMD_ADDRESS": "tcp://127.0.0.1:3310",
		"IMGMGR_SERVER_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1", "IMGMGR_DELIVERY_KEYS": `[{"key":"aa","salt":"bb"}]`}, "--port", "9200")
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Port != 9200 {
		t.Errorf("flag should win: port %d", c.Server.Port)
	}
	if c.Server.DataDir != "/srv/a" || c.Log.Level != "warn" || c.Scan.Timeout.D() != 5*time.Second {
		t.Errorf("file values lost: %+v %+v", c.Server, c.Scan)
	}
	if c.Scan.ClamdAddress != "tcp://127.0.0.1:3310" || len(c.Server.TrustedProxies) != 2 || c.Server.TrustedProxies[1] != "127.0.0.1" {
		t.Errorf("env values lost: %+v", c)
	}
	if len(c.Delivery.Keys) != 1 || c.Delivery.Keys[0].Salt != "bb" {
		t.Errorf("env JSON list lost: %+v", c.Delivery.Keys)
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	for _, c := range []struct {
		name, file string
		env        map[string]string
		key        string
	}{
		{"port range", `{"server":{"port":70000}}`, nil, "server.port"},
		{"wrong type", `{"server":{"port":"x"}}`, nil, "server.port"},
		{"env int", "", map[string]string{"IMGMGR_UPLOAD_MAX_FILE_BYTES": "lots"}, "upload.max_file_bytes"},
		{"env duration", "", map[string]string{"IMGMGR_AUTH_ACCESS_TTL": "soon"}, "auth.access_ttl"},
		{"backend", `{"storage":{"backend":"ftp"}}`, nil, "storage.backend"},
		{"staging backend", `{"upload":{"staging_backend":"nfs"}}`, nil, "upload.staging_backend"},
		{"s3 staging without s3", "", map[string]string{"IMGMGR_UPLOAD_STAGING_BACKEND": "s3"}, "upload.staging_backend"},
		{"staging prefix", `{"upload":{"staging_s3_prefix":"/staging/"}}`, nil, "upload.staging_s3_prefix"},
		{"clamd", "", map[string]string{"IMGMGR_SCAN_CLAMD_ADDRESS": "127.0.0.1:3310"}, "scan.clamd_address"},
		{"proxy", `{"server":{"trusted_proxies":["nope"]}}`, nil, "server.trusted_proxies[0]"},
		{"log level", `{"log":{"level":"loud"}}`, nil, "log.level"},
		// Regression: these were accepted unchecked; a negative cap or
		// timeout silently meant "unbounded" or failed far from start-up.
		{"negative ingest cap", `{"upload":{"max_concurrent":-1}}`, nil, "upload.max_concurrent"},
		{"negative scan timeout", `{"scan":{"timeout":"-5s"}}`, nil, "scan.timeout"},
		{"negative scan parallelism", "", map[string]string{"IMGMGR_SCAN_MAX_PARALLEL": "-2"}, "scan.max_parallel"},
		{"negative render queue", `{"delivery":{"render_queue":-1}}`, nil, "delivery.render_queue"},
		{"negative render concurrency", `{"delivery":{"render_concurrency":-1}}`, nil, "delivery.render_concurrency"},
		{"negative render timeout", `{"delivery":{"render_timeout":"-1s"}}`, nil, "delivery.render_timeout"},
		{"negative cache size", `{"delivery":{"cache_max_bytes":-1}}`, nil, "delivery.cache_max_bytes"},
		{"relative public url", `{"server":{"public_url":"images.example.com"}}`, nil, "server.public_url"},
		{"cors origin with a path", `{"server":{"cors_origins":["https://app.example/ui"]}}`, nil, "server.cors_origins[0]"},
	} {
		_, err := load(t, c.file, c.env)
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != c.key {
			t.Errorf("%s: err = %v, want key %s", c.name, err, c.key)
		}
	}
	if _, err := load(t, `{"server":{"prot":1}}`, nil); err == nil {
		t.Error("unknown key accepted")
	}
}

// Regression: every ratelimit.*_per_minute key and admin_factor is a
// float64, and setting one through its env form stopped start-up with
// "unsupported type float64", although every key has an env form.
func TestEnvSetsFloatKeys(t *testing.T) {
	c, err := load(t, "", map[string]string{"IMGMGR_RATELIMIT_UPLOADS_PER_MINUTE": "30",
		"IMGMGR_RATELIMIT_ADMIN_FACTOR": "2.5"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Rate.UploadsPerMinute != 30 || c.Rate.AdminFactor != 2.5 {
		t.Errorf("uploads_per_minute %v, admin_factor %v; want 30, 2.5", c.Rate.UploadsPerMinute, c.Rate.AdminFactor)
	}
	_, err = load(t, "", map[string]string{"IMGMGR_RATELIMIT_IP_PER_MINUTE": "many"})
	var ce *Error
	if !errors.As(err, &ce) || ce.Key != "ratelimit.ip_per_minute" {
		t.Errorf("bad float: err = %v, want key ratelimit.ip_per_minute", err)
	}
}

// upload.staging_backend left empty follows storage.backend: replicas on
// one S3 bucket share their unfinished tus uploads without another setting.
func TestStagingFollowsStorage(t *testing.T) {
	for _, c := range []struct{ storage, staging, want string }{
		{"local", "", "local"},
		{"s3", "", "s3"},
		{"s3", "local", "local"},
		{"local", "s3", "s3"},
	} {
		cfg := Default()
		cfg.Storage.Backend, cfg.Upload.StagingBackend = c.storage, c.staging
		if got := cfg.Staging(); got != c.want {
			t.Errorf("storage %s, staging_backend %q: Staging() = %s, want %s", c.storage, c.staging, got, c.want)
		}
	}
}
