// Package config is the configuration tree of the imgmgr binary: defaults,
// a JSON file, IMGMGR_* environment variables and flags, in that order of
// precedence, and validation that names the bad key.
package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Config is the whole configuration. JSON keys are the documented keys;
// every leaf also has an env form IMGMGR_<SECTION>_<KEY>.
type Config struct {
	Server   Server   `json:"server"`
	Database Database `json:"database"`
	Storage  Storage  `json:"storage"`
	Redis    Redis    `json:"redis"`
	Scan     Scan     `json:"scan"`
	Upload   Upload   `json:"upload"`
	Limits   Limits   `json:"limits"`
	Auth     Auth     `json:"auth"`
	Delivery Delivery `json:"delivery"`
	Log      Log      `json:"log"`
	Rate     Rate     `json:"ratelimit"`
	CDN      CDN      `json:"cdn"`
}

// Rate sets the token buckets (per minute, with a burst). Per-principal
// limits are multiplied by admin_factor for admins. In process by default;
// shared through Redis when redis.url is set.
type Rate struct {
	Enabled            bool     `json:"enabled"`               // default true
	IPPerMinute        float64  `json:"ip_per_minute"`         // every /api request per client IP; default 1200
	IPBurst            int      `json:"ip_burst"`              // default 300
	APIPerMinute       float64  `json:"api_per_minute"`        // authenticated requests per user or API key; default 1200
	APIBurst           int      `json:"api_burst"`             // default 300
	UploadsPerMinute   float64  `json:"uploads_per_minute"`    // upload requests per user or key; default 300
	UploadsBurst       int      `json:"uploads_burst"`         // default 100
	UploadMiBPerMinute float64  `json:"upload_mib_per_minute"` // upload bytes per user or key, in MiB (of Content-Length, or as read for chunked bodies); default 4096
	UploadMiBBurst     int      `json:"upload_mib_burst"`      // default 4096 (also the largest single request that can pass)
	LoginPerMinute     float64  `json:"login_per_minute"`      // login attempts per client IP; default 30
	LoginBurst         int      `json:"login_burst"`           // default 10
	RendersPerMinute   float64  `json:"renders_per_minute"`    // cache-missing variant renders per client IP; default 600
	RendersBurst       int      `json:"renders_burst"`         // default 120
	AdminFactor        float64  `json:"admin_factor"`          // default 10
	LockoutFree        int      `json:"lockout_free"`          // failed logins per username+IP before delays; default 5
	LockoutMax         Duration `json:"lockout_max"`           // longest lockout; default 15m
	FailOpen           bool     `json:"fail_open"`             // allow requests when Redis is down; default false (503)
}

// Server is where and how the HTTP server listens.
type Server struct {
	Host            string   `json:"host"`             // listen address; default "" (all interfaces)
	Port            int      `json:"port"`             // default 8080; 0 picks a free port
	DataDir         string   `json:"data_dir"`         // default ./data
	PublicURL       string   `json:"public_url"`       // absolute base URL for links; default derived from requests
	ShutdownTimeout Duration `json:"shutdown_timeout"` // drain bound on SIGTERM; default 20s
	TrustedProxies  []string `json:"trusted_proxies"`  // CIDRs whose X-Forwarded-* headers are believed
	CORSOrigins     []string `json:"cors_origins"`     // allowed browser origins; "*" for any
	MaxConnections  int      `json:"max_connections"`  // open connections cap; default 1024; 0 = no cap
	MinBodyRate     int64    `json:"min_body_rate"`    // bytes/s a request body must keep up, averaged over body_rate_window; default 1024; 0 = off
	BodyRateWindow  Duration `json:"body_rate_window"` // default 30s
	// MinResponseRate is the bytes/s a client must read a response at,
	// averaged over body_rate_window (a stalled reader is cut and its
	// connection freed); default 1024; 0 = off.
	MinResponseRate int64 `json:"min_response_rate"`
}

// Database selects the metadata store.
type Database struct {
	URL         string   `json:"url"`          // "" = SQLite in the data dir; postgres://... = PostgreSQL
	BusyTimeout Duration `json:"busy_timeout"` // SQLite: wait for another process's lock, then 503; default 10s
}

// Storage selects the blob store.
type Storage struct {
	Backend     string `json:"backend"`       // local (default) | s3
	LocalDir    string `json:"local_dir"`     // default <data_dir>/blobs
	S3Endpoint  string `json:"s3_endpoint"`   // host:port
	S3Bucket    string `json:"s3_bucket"`     //
	S3Region    string `json:"s3_region"`     //
	S3AccessKey string `json:"s3_access_key"` //
	S3SecretKey string `json:"s3_secret_key"` //
	S3UseTLS    bool   `json:"s3_use_tls"`    //
	S3Prefix    string `json:"s3_prefix"`     // prepended to every object key, e.g. "imgmgr/"; default none
}

// Redis shares events, limits, locks, view counts and render leases across
// replicas. The URL forms are those of cluster.ParseURL: redis:// or
// rediss://[user:password@]host:port/db (one server), unix:///path.sock,
// redis://sentinel:26379/db?master_name=NAME&addr=sentinel2:26379 (Sentinel),
// redis://node1:6379?addr=node2:6379 or ?cluster=true (Cluster).
type Redis struct {
	URL            string   `json:"url"`              // "" = in-process; see above
	Prefix         string   `json:"prefix"`           // starts every key and channel; default "imgmgr:"
	DialTimeout    Duration `json:"dial_timeout"`     // one connection attempt; default 200ms
	OpTimeout      Duration `json:"op_timeout"`       // each read or write of a command; default 200ms
	LockTTL        Duration `json:"lock_ttl"`         // a dead holder's upload or blob lock lapses after; default 3s, at least 1s
	RenderLeaseTTL Duration `json:"render_lease_ttl"` // a dead renderer's lease on a variant lapses after; default 3s, at least 1s
}

// Scan configures malware scanning.
type Scan struct {
	ClamdAddress string   `json:"clamd_address"` // "" = off; tcp://127.0.0.1:3310 or unix:///run/clamav/clamd.ctl
	FailOpen     bool     `json:"fail_open"`     // store unscanned when clamd is down; default false (503)
	Timeout      Duration `json:"timeout"`       // per scan; default 60s
	MaxParallel  int      `json:"max_parallel"`  // concurrent scans; default 4
}

// Upload limits.
type Upload struct {
	MaxFileBytes      int64    `json:"max_file_bytes"`          // per file; default 200 MiB
	MemoryThreshold   int64    `json:"memory_threshold"`        // spool in memory up to; default 512 KiB
	MaxFilesPerUpload int      `json:"max_files_per_request"`   // multipart files per request; default 100
	TempDir           string   `json:"temp_dir"`                // default <data_dir>/tmp
	MaxConcurrent     int      `json:"max_concurrent"`          // ingests at once per node; default 2 × cores
	MaxConcurrentUser int      `json:"max_concurrent_per_user"` // ingests (and tus PATCHes, twice this) at once per user; default 4
	StagingDir        string   `json:"staging_dir"`             // unfinished tus uploads; default <data_dir>/staging
	StagingBackend    string   `json:"staging_backend"`         // where unfinished tus uploads live: "" (s3 when storage.backend is s3, else local) | local | s3 (shared by replicas, storage.s3_* connection)
	StagingS3Prefix   string   `json:"staging_s3_prefix"`       // object name prefix of s3 staging, after storage.s3_prefix; default "staging/"
	TusMaxSize        int64    `json:"tus_max_size"`            // largest tus upload; 0 = max_file_bytes
	TusExpiry         Duration `json:"tus_expiry"`              // an unfinished tus upload expires after; default 24h
	MaxUnfinished     int      `json:"max_unfinished_per_user"` // unfinished tus uploads per user; default 100
	AllowSVG          bool     `json:"allow_svg"`               // accept SVG, sanitised (scripts, handlers, external refs removed); default false
	MaxSVGBytes       int64    `json:"max_svg_bytes"`           // largest SVG accepted, bytes; default 5 MiB
	ProgressEvery     Duration `json:"progress_every"`          // progress events per upload at most every; default 250ms
}

// Staging resolves upload.staging_backend: "s3" or "local". Left empty
// it follows storage.backend, so that replicas sharing an S3 bucket also
// share their unfinished tus uploads.
func (c Config) Staging() string {
	if c.Upload.StagingBackend == "" && c.Storage.Backend == "s3" {
		return "s3"
	}
	if c.Upload.StagingBackend == "" {
		return "local"
	}
	return c.Upload.StagingBackend
}

// Limits on decoded images.
type Limits struct {
	MaxPixels       int64 `json:"max_pixels"`        // per frame; default 50 000 000
	MaxFrames       int   `json:"max_frames"`        // default 1000
	MaxTotalPixels  int64 `json:"max_total_pixels"`  // all frames; default 500 000 000
	MaxResultPixels int64 `json:"max_result_pixels"` // a variant's size; default 50 000 000
}

// Auth configures tokens.
type Auth struct {
	JWTKey     string   `json:"jwt_key"`     // hex or base64, ≥32 bytes; "" = generated once into <data_dir>/jwt.key
	AccessTTL  Duration `json:"access_ttl"`  // default 15m
	RefreshTTL Duration `json:"refresh_ttl"` // default 720h
}

// Delivery configures variant URLs.
type Delivery struct {
	Keys                 []SigningKey      `json:"keys"`                   // hex key/salt pairs; first signs, all verify; none (or only empty ones) = generated once into <data_dir>/signing-keys.json
	SignatureSize        int               `json:"signature_size"`         // bytes of HMAC kept; default 32
	AllowUnsignedPresets bool              `json:"allow_unsigned_presets"` // /img/_/pr:NAME/{id} for public images
	Presets              map[string]string `json:"presets"`                // name -> options, e.g. "thumb": "rs:fill:320:320/q:75"
	EagerPresets         []string          `json:"eager_presets"`          // rendered right after upload
	CacheMaxBytes        int64             `json:"cache_max_bytes"`        // variant cache size cap; default 10 GiB
	RenderConcurrency    int               `json:"render_concurrency"`     // default number of cores
	RenderQueue          int               `json:"render_queue"`           // waiting renders before 503; default 64
	RenderTimeout        Duration          `json:"render_timeout"`         // default 30s
	PublicOriginals      bool              `json:"public_originals"`       // anyone may fetch public images' originals (location tags removed)
	DefaultPreset        string            `json:"default_preset"`         // applied before every URL's own options; "" = none
	FormatOrder          []string          `json:"format_order"`           // negotiation preference; default ["avif","webp"]
	PrivateTTL           Duration          `json:"private_ttl"`            // expiry of private images' URLs signed without one; default 1h
	PrivateMaxTTL        Duration          `json:"private_max_ttl"`        // longest expiry a private image's URL may be signed with (longer: 400 expires_in_too_long); default 168h
	Quality              map[string]int    `json:"quality"`                // per format; defaults jpeg 80, webp 79, avif 63, jxl 77
}

// SigningKey is one hex-encoded key/salt pair. A pair whose key and salt
// are both empty is a placeholder and is ignored (config.example.json ships
// one, with a Comment on how to make a real pair).
type SigningKey struct {
	Key     string `json:"key"`
	Salt    string `json:"salt"`
	Comment string `json:"comment,omitempty"` // free text for the operator; ignored
}

// Placeholder reports an empty pair, which stands for "none configured".
func (k SigningKey) Placeholder() bool { return k.Key == "" && k.Salt == "" }

// Log configures structured logs.
type Log struct {
	Level  string `json:"level"`  // debug, info (default), warn, error
	Format string `json:"format"` // json (default), text; "" = text on a terminal, json otherwise
}

// Duration is a time.Duration written as "15m" in JSON and env.
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "90s" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("want a duration like \"30s\"")
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	return d.Set(s)
}

// Set parses a duration string.
func (d *Duration) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("want a duration like \"30s\": %w", err)
	}
	*d = Duration(v)
	return nil
}

// Default returns the embedded defaults.
func Default() Config {
	return Config{
		Server: Server{Port: 8080, DataDir: "./data", ShutdownTimeout: Duration(20 * time.Second), MaxConnections: 1024,
			MinBodyRate: 1024, BodyRateWindow: Duration(30 * time.Second), MinResponseRate: 1024},
		Database: Database{BusyTimeout: Duration(10 * time.Second)},
		Storage:  Storage{Backend: "local"},
		Redis: Redis{Prefix: "imgmgr:", DialTimeout: Duration(200 * time.Millisecond), OpTimeout: Duration(200 * time.Millisecond),
			LockTTL: Duration(3 * time.Second), RenderLeaseTTL: Duration(3 * time.Second)},
		Scan: Scan{Timeout: Duration(60 * time.Second), MaxParallel: 4},
		Upload: Upload{MaxFileBytes: 200 << 20, MaxSVGBytes: 5 << 20, MemoryThreshold: 512 << 10, MaxFilesPerUpload: 100, StagingS3Prefix: "staging/",
			TusExpiry: Duration(24 * time.Hour), MaxUnfinished: 100, ProgressEvery: Duration(250 * time.Millisecond)},
		Limits: Limits{MaxPixels: 50_000_000, MaxFrames: 1000, MaxTotalPixels: 500_000_000, MaxResultPixels: 50_000_000},
		Auth:   Auth{AccessTTL: Duration(15 * time.Minute), RefreshTTL: Duration(720 * time.Hour)},
		Delivery: Delivery{SignatureSize: 32, CacheMaxBytes: 10 << 30, RenderQueue: 64, RenderTimeout: Duration(30 * time.Second),
			FormatOrder: []string{"avif", "webp"}, PrivateTTL: Duration(time.Hour), PrivateMaxTTL: Duration(7 * 24 * time.Hour), Quality: map[string]int{"jpeg": 80, "webp": 79, "avif": 63, "jxl": 77},
			Presets: map[string]string{"thumb": "rs:fill:320:320", "card": "rs:fit:800:800", "large": "rs:fit:1920:1920"}},
		Log: Log{Level: "info"},
		Rate: Rate{Enabled: true, IPPerMinute: 1200, IPBurst: 300, APIPerMinute: 1200, APIBurst: 300,
			UploadsPerMinute: 300, UploadsBurst: 100, UploadMiBPerMinute: 4096, UploadMiBBurst: 4096,
			LoginPerMinute: 30, LoginBurst: 10, RendersPerMinute: 600, RendersBurst: 120, AdminFactor: 10,
			LockoutFree: 5, LockoutMax: Duration(15 * time.Minute)},
		CDN: defaultCDN(),
	}
}
