package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Error is a configuration error naming the key at fault.
type Error struct {
	Key string
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("config %s: %v", e.Key, e.Err) }

func keyErr(key, format string, args ...any) error {
	return &Error{Key: key, Err: fmt.Errorf(format, args...)}
}

// Flags binds the command-line flags that override the file and env.
type Flags struct {
	set        *pflag.FlagSet
	ConfigPath string
	port       int
	host       string
	dataDir    string
	dbURL      string
	redisURL   string
	logLevel   string
	logFormat  string
}

// NewFlags registers the configuration flags on fs.
func NewFlags(fs *pflag.FlagSet) *Flags {
	f := &Flags{set: fs}
	fs.StringVar(&f.ConfigPath, "config", "", "JSON configuration file")
	fs.IntVar(&f.port, "port", 0, "listen port (server.port)")
	fs.StringVar(&f.host, "host", "", "listen address (server.host)")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory (server.data_dir)")
	fs.StringVar(&f.dbURL, "database-url", "", "metadata database URL (database.url)")
	fs.StringVar(&f.redisURL, "redis-url", "", "Redis URL (redis.url)")
	fs.StringVar(&f.logLevel, "log-level", "", "debug|info|warn|error (log.level)")
	fs.StringVar(&f.logFormat, "log-format", "", "json|text (log.format)")
	return f
}

func (f *Flags) apply(c *Config) {
	changed := f.set.Changed
	if changed("port") {
		c.Server.Port = f.port
	}
	if changed("host") {
		c.Server.Host = f.host
	}
	if changed("data-dir") {
		c.Server.DataDir = f.dataDir
	}
	if changed("database-url") {
		c.Database.URL = f.dbURL
	}
	if changed("redis-url") {
		c.Redis.URL = f.redisURL
	}
	if changed("log-level") {
		c.Log.Level = f.logLevel
	}
	if changed("log-format") {
		c.Log.Format = f.logFormat
	}
}

// Load builds the configuration: defaults < JSON file < env < flags, then
// validates it. getenv is os.Getenv in production.
func Load(f *Flags, getenv func(string) string) (Config, error) {
	c := Default()
	path := f.ConfigPath
	if path == "" {
		path = getenv("IMGMGR_CONFIG")
	}
	if path != "" {
		if err := loadFile(&c, path); err != nil {
			return c, err
		}
	}
	if err := applyEnv(&c, getenv); err != nil {
		return c, err
	}
	f.apply(&c)
	return c, c.Validate()
}

func loadFile(c *Config, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return &Error{Key: "--config", Err: err}
	}
	if b, err = stripComments(b); err != nil {
		return &Error{Key: path, Err: err}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return keyErr(te.Field, "want %s, got JSON %s", te.Type, te.Value)
		}
		return &Error{Key: path, Err: err}
	}
	return nil
}

// CommentKey is a key a section of the JSON file may hold for a note to
// its reader (config.example.json names the accepted forms of a value
// there); it is ignored.
const CommentKey = "//"

// stripComments removes the CommentKey of every section.
func stripComments(b []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	for name, raw := range top {
		var section map[string]json.RawMessage
		if json.Unmarshal(raw, &section) != nil {
			continue // not an object: the strict decoder reports it
		}
		if _, ok := section[CommentKey]; !ok {
			continue
		}
		delete(section, CommentKey)
		clean, err := json.Marshal(section)
		if err != nil {
			return nil, err
		}
		top[name] = clean
	}
	return json.Marshal(top)
}

// applyEnv sets every leaf that has an IMGMGR_<SECTION>_<KEY> variable
// (IMGMGR_<SECTION>_<GROUP>_<KEY> inside a nested group, e.g.
// IMGMGR_CDN_CLOUDFLARE_API_TOKEN). Lists are comma-separated; maps and
// lists of objects are JSON.
func applyEnv(c *Config, getenv func(string) string) error {
	root := reflect.ValueOf(c).Elem()
	for i := 0; i < root.NumField(); i++ {
		if err := applyEnvStruct(root.Field(i), jsonName(root.Type().Field(i)), getenv); err != nil {
			return err
		}
	}
	return nil
}

func applyEnvStruct(sv reflect.Value, path string, getenv func(string) string) error {
	for j := 0; j < sv.NumField(); j++ {
		key := path + "." + jsonName(sv.Type().Field(j))
		if isGroup(sv.Field(j)) {
			if err := applyEnvStruct(sv.Field(j), key, getenv); err != nil {
				return err
			}
			continue
		}
		name := "IMGMGR_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		raw := getenv(name)
		if raw == "" {
			continue
		}
		if err := setValue(sv.Field(j), raw); err != nil {
			return keyErr(key, "%s=%q: %v", name, raw, err)
		}
	}
	return nil
}

// isGroup reports whether a field is a nested group of keys (a struct
// that does not parse itself from a string).
func isGroup(v reflect.Value) bool {
	_, self := v.Addr().Interface().(interface{ Set(string) error })
	return v.Kind() == reflect.Struct && !self
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func setValue(v reflect.Value, raw string) error {
	if p, ok := v.Addr().Interface().(interface{ Set(string) error }); ok {
		return p.Set(raw)
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return errors.New("want true or false")
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return errors.New("want an integer")
		}
		v.SetInt(n)
	case reflect.Float64:
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return errors.New("want a number")
		}
		v.SetFloat(f)
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.String && !strings.HasPrefix(strings.TrimSpace(raw), "[") {
			parts := strings.Split(raw, ",")
			for i := range parts {
				parts[i] = strings.TrimSpace(parts[i])
			}
			v.Set(reflect.ValueOf(parts))
			return nil
		}
		return json.Unmarshal([]byte(raw), v.Addr().Interface())
	case reflect.Map:
		return json.Unmarshal([]byte(raw), v.Addr().Interface())
	default:
		return fmt.Errorf("unsupported type %s", v.Type())
	}
	return nil
}

// Validate checks every key and names the first bad one.
func (c Config) Validate() error {
	checks := []struct {
		bad  bool
		key  string
		what string
	}{
		{c.Server.Port < 0 || c.Server.Port > 65535, "server.port", "must be 0..65535"},
		{c.Server.DataDir == "", "server.data_dir", "must not be empty"},
		{c.Server.ShutdownTimeout < 0, "server.shutdown_timeout", "must not be negative"},
		{c.Server.MinBodyRate < 0, "server.min_body_rate", "must not be negative"},
		{c.Server.MinResponseRate < 0, "server.min_response_rate", "must not be negative"},
		{c.Server.BodyRateWindow < 0, "server.body_rate_window", "must not be negative"},
		{c.Server.MaxConnections < 0, "server.max_connections", "must not be negative"},
		{c.Database.URL != "" && !strings.HasPrefix(c.Database.URL, "postgres://") && !strings.HasPrefix(c.Database.URL, "postgresql://") && !strings.HasPrefix(c.Database.URL, "sqlite:"), "database.url", "must be empty, sqlite:<path> or postgres://..."},
		{c.Database.BusyTimeout < 0, "database.busy_timeout", "must not be negative"},
		{c.Storage.Backend != "local" && c.Storage.Backend != "s3", "storage.backend", "must be local or s3"},
		{c.Storage.Backend == "s3" && (c.Storage.S3Endpoint == "" || c.Storage.S3Bucket == ""), "storage.s3_endpoint", "s3 needs s3_endpoint and s3_bucket"},
		{c.Redis.URL != "" && !strings.HasPrefix(c.Redis.URL, "redis://") && !strings.HasPrefix(c.Redis.URL, "rediss://") && !strings.HasPrefix(c.Redis.URL, "unix://"), "redis.url", "must be empty, redis://, rediss:// or unix://..."},
		{c.Redis.Prefix == "", "redis.prefix", "must not be empty"},
		{c.Redis.DialTimeout <= 0, "redis.dial_timeout", "must be positive"},
		{c.Redis.OpTimeout <= 0, "redis.op_timeout", "must be positive"},
		{c.Redis.LockTTL < Duration(time.Second), "redis.lock_ttl", "must be at least 1s"},
		{c.Redis.RenderLeaseTTL < Duration(time.Second), "redis.render_lease_ttl", "must be at least 1s"},
		{c.Scan.ClamdAddress != "" && !strings.HasPrefix(c.Scan.ClamdAddress, "tcp://") && !strings.HasPrefix(c.Scan.ClamdAddress, "unix://"), "scan.clamd_address", "must be tcp://host:port or unix:///path"},
		{c.Upload.MaxFileBytes <= 0, "upload.max_file_bytes", "must be positive"},
		{c.Upload.MaxSVGBytes <= 0, "upload.max_svg_bytes", "must be positive"},
		{c.Upload.MemoryThreshold < 0 || c.Upload.MemoryThreshold > 64<<20, "upload.memory_threshold", "must be 0..64 MiB"},
		{c.Upload.MaxFilesPerUpload <= 0, "upload.max_files_per_request", "must be positive"},
		{c.Upload.MaxConcurrent < 0, "upload.max_concurrent", "must not be negative (0 = 2 × cores)"},
		{c.Upload.MaxConcurrentUser < 0, "upload.max_concurrent_per_user", "must not be negative"},
		{c.Upload.TusMaxSize < 0, "upload.tus_max_size", "must not be negative"},
		{!oneOf(c.Upload.StagingBackend, "", "local", "s3"), "upload.staging_backend", "must be empty (follow storage.backend), local or s3"},
		{c.Staging() == "s3" && (c.Storage.S3Endpoint == "" || c.Storage.S3Bucket == ""), "upload.staging_backend", "s3 staging needs storage.s3_endpoint and storage.s3_bucket"},
		{strings.HasPrefix(c.Upload.StagingS3Prefix, "/"), "upload.staging_s3_prefix", "must not start with /"},
		{c.Upload.TusExpiry <= 0, "upload.tus_expiry", "must be positive"},
		{c.Upload.MaxUnfinished < 0, "upload.max_unfinished_per_user", "must not be negative"},
		{c.Upload.ProgressEvery < 0, "upload.progress_every", "must not be negative"},
		{c.Scan.Timeout < 0, "scan.timeout", "must not be negative"},
		{c.Scan.MaxParallel < 0, "scan.max_parallel", "must not be negative"},
		{c.Limits.MaxPixels <= 0, "limits.max_pixels", "must be positive"},
		{c.Limits.MaxFrames <= 0, "limits.max_frames", "must be positive"},
		{c.Limits.MaxTotalPixels <= 0, "limits.max_total_pixels", "must be positive"},
		{c.Limits.MaxResultPixels <= 0, "limits.max_result_pixels", "must be positive"},
		{c.Auth.AccessTTL <= 0, "auth.access_ttl", "must be positive"},
		{c.Auth.RefreshTTL <= 0, "auth.refresh_ttl", "must be positive"},
		{c.Delivery.SignatureSize < 8 || c.Delivery.SignatureSize > 32, "delivery.signature_size", "must be 8..32 bytes"},
		{c.Delivery.CacheMaxBytes < 0, "delivery.cache_max_bytes", "must not be negative"},
		{c.Delivery.RenderConcurrency < 0, "delivery.render_concurrency", "must not be negative"},
		{c.Delivery.RenderQueue < 0, "delivery.render_queue", "must not be negative"},
		{c.Delivery.RenderTimeout < 0, "delivery.render_timeout", "must not be negative"},
		{c.Delivery.PrivateMaxTTL < 0 || c.Delivery.PrivateMaxTTL > 0 && c.Delivery.PrivateTTL > c.Delivery.PrivateMaxTTL, "delivery.private_max_ttl", "must not be negative nor below delivery.private_ttl"},
		{!oneOf(c.Log.Level, "debug", "info", "warn", "error"), "log.level", "must be debug, info, warn or error"},
		{!oneOf(c.Log.Format, "", "json", "text"), "log.format", "must be json or text"},
	}
	for _, ch := range checks {
		if ch.bad {
			return keyErr(ch.key, "%s", ch.what)
		}
	}
	if err := c.Server.validateAddresses(); err != nil {
		return err
	}
	return c.CDN.validate(c.Delivery.Presets)
}

// validateAddresses checks the server's lists of addresses and its URL.
func (s Server) validateAddresses() error {
	for i, p := range s.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return keyErr(fmt.Sprintf("server.trusted_proxies[%d]", i), "%q is not a CIDR or IP", p)
		}
	}
	for i, o := range s.CORSOrigins {
		if u, err := url.Parse(strings.TrimRight(o, "/")); o != "*" && (err != nil || !isHTTP(u) || u.Path != "" || u.RawQuery != "") {
			return keyErr(fmt.Sprintf("server.cors_origins[%d]", i), "%q is not \"*\" or an origin like https://app.example", o)
		}
	}
	if u, err := url.Parse(s.PublicURL); s.PublicURL != "" && (err != nil || !isHTTP(u)) {
		return keyErr("server.public_url", "%q is not an absolute http(s) URL", s.PublicURL)
	}
	return nil
}

func isHTTP(u *url.URL) bool { return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" }

func oneOf(s string, opts ...string) bool {
	for _, o := range opts {
		if s == o {
			return true
		}
	}
	return false
}
