package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/auth"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/localfs"
	"github.com/imgmgr/imgmgr/blob/s3"
	"github.com/imgmgr/imgmgr/cdn"
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/delivery"
	"github.com/imgmgr/imgmgr/events/ws"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/images"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/postgres"
	"github.com/imgmgr/imgmgr/meta/sqlite"
	"github.com/imgmgr/imgmgr/observe"
	"github.com/imgmgr/imgmgr/upload"
	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/staging/s3stage"
	"github.com/imgmgr/imgmgr/upload/tus"
	"github.com/imgmgr/imgmgr/vips"
	"github.com/imgmgr/imgmgr/web"
)

// app is the composed server: the only place that picks backends.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	reg     *prometheus.Registry
	meta    meta.Store
	blobs   blob.Store
	auth    *auth.Service
	images  *images.Service
	ingest  *ingest.Service
	handler *httpapi.Server
	closers []func() error
}

// openMeta opens the configured metadata store (migrating its schema).
func openMeta(ctx context.Context, cfg config.Config, log *slog.Logger) (meta.Store, error) {
	u := cfg.Database.URL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		s, err := postgres.Open(ctx, u)
		if err != nil {
			return nil, dependencyError("database.url", err)
		}
		log.Info("database: postgres ready")
		return s, nil
	default:
		path := strings.TrimPrefix(u, "sqlite:")
		if path == "" {
			path = filepath.Join(cfg.Server.DataDir, "imgmgr.db")
		}
		s, err := sqlite.OpenWith(ctx, path, sqlite.Options{BusyTimeout: cfg.Database.BusyTimeout.D()})
		if err != nil {
			return nil, dependencyError("database.url", fmt.Errorf("sqlite %s: %w", path, cause(err)))
		}
		log.Info("database: sqlite ready at " + path)
		return s, nil
	}
}

// build opens every component and wires them together.
// On failure it closes what it opened and returns one error that names the
// config key of the part that failed (never a nil app with a deferred close:
// that was a nil-pointer panic on every start-up failure).
func build(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *app, err error) {
	started := time.Now()
	a := &app{cfg: cfg, log: log, reg: observe.NewRegistry()}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if err := os.MkdirAll(cfg.Server.DataDir, 0o750); err != nil {
		return nil, dependencyError("server.data_dir", err)
	}
	a.sweepTemp(started)
	if a.meta, err = openMeta(ctx, cfg, log); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.meta.Close)
	if err := a.openBlobs(); err != nil {
		return nil, err
	}
	if err := vips.Startup(vips.Config{}); err != nil {
		return nil, fmt.Errorf("vips: %w", err)
	}
	log.Info("vips: libvips ready", "version", vips.Version())
	if err := observe.RegisterBuildInfo(a.reg, version, vips.Version()); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	key, err := jwtKey(cfg)
	if err != nil {
		return nil, err
	}
	if a.auth, err = auth.New(auth.Config{JWTKey: key, AccessTTL: cfg.Auth.AccessTTL.D(), RefreshTTL: cfg.Auth.RefreshTTL.D()}, a.meta); err != nil {
		return nil, err
	}
	sh, err := a.openShared(ctx)
	if err != nil {
		return nil, err
	}
	dlv, err := a.openDelivery(func(r *http.Request) error { return a.handler.RenderGate(r) }, sh.flights)
	if err != nil {
		return nil, err
	}
	scanner, scanFn, err := a.scanner()
	if err != nil {
		return nil, err
	}
	limits, err := a.limits(sh)
	if err != nil {
		return nil, err
	}
	cdnSvc, err := a.openCDN(dlv)
	if err != nil {
		return nil, err
	}
	purger, cdnAPI := cdnDeps(cdnSvc)
	locks := sh.keyLocks // content-address locks: across replicas with Redis
	a.images = images.New(images.Deps{Meta: a.meta, Blobs: a.blobs, Locks: locks, Views: sh.views,
		OnOriginalGone: dlv.DeleteVariants, CDN: purger, Logger: log})
	if a.ingest, err = a.newIngest(locks, sh, dlv, scanFn, cdnSvc); err != nil {
		return nil, err
	}
	mounts, err := a.uploadMounts(ctx, sh)
	if err != nil {
		return nil, err
	}
	mounts = append(mounts, httpapi.Mount{Pattern: "GET /img/", Handler: countViews(sh.views, dlv.ServeVariant)})
	ready := map[string]httpapi.Checker{"database": a.meta, "storage": a.blobs}
	if sh.redis != nil {
		ready["redis"] = redisChecker{sh.redis}
	}
	if scanner != nil {
		ready["scanner"] = scanner
	}
	a.handler = httpapi.New(httpapi.Deps{
		Auth: a.auth, Images: a.images, Meta: a.meta, Signer: dlv, CDN: cdnAPI,
		Upload:          upload.NewMultipart(upload.MultipartConfig{MaxFiles: cfg.Upload.MaxFilesPerUpload, ProgressEvery: cfg.Upload.ProgressEvery.D()}, a.ingest, sh.bus),
		Mounts:          mounts,
		Ready:           ready,
		UI:              web.Handler(),
		CORSOrigins:     cfg.Server.CORSOrigins,
		Limits:          limits,
		PublicOriginals: cfg.Delivery.PublicOriginals,
		MinRate:         perWindow(cfg.Server.MinBodyRate, cfg.Server.BodyRateWindow.D()),
		MinResponseRate: perWindow(cfg.Server.MinResponseRate, cfg.Server.BodyRateWindow.D()),
		Registry:        a.reg, Logger: log,
	})
	log.Info("http: routes ready")
	return a, nil
}

func (a *app) newIngest(locks blob.KeyLocker, sh *shared, dlv *delivery.Service, scanFn ingest.ScanFunc, cdnSvc *cdn.Service) (*ingest.Service, error) {
	cfg := a.cfg
	tmp := dataPath(cfg, cfg.Upload.TempDir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("upload.temp_dir: %w", err)
	}
	return ingest.New(ingest.Config{
		MaxFileBytes: cfg.Upload.MaxFileBytes, MemoryThreshold: cfg.Upload.MemoryThreshold, TempDir: tmp,
		MaxPixels: cfg.Limits.MaxPixels, MaxFrames: cfg.Limits.MaxFrames, MaxTotalPixels: cfg.Limits.MaxTotalPixels,
		MaxConcurrent: cfg.Upload.MaxConcurrent, MaxPerUser: cfg.Upload.MaxConcurrentUser,
		ScanFailOpen: cfg.Scan.FailOpen, AllowSVG: cfg.Upload.AllowSVG, MaxSVGBytes: cfg.Upload.MaxSVGBytes,
	}, ingest.Deps{Meta: a.meta, Blobs: a.blobs, Locks: locks, Decoder: vips.Decoder{}, Scan: scanFn, Events: sh.bus, Metrics: a.reg, Logger: a.log,
		AfterStore: func(ctx context.Context, im *imgmgr.Image) {
			if err := dlv.EnqueueEager(ctx, im); err != nil {
				a.log.WarnContext(ctx, "enqueueing eager variants", "image", im.ID, "err", err)
			}
			a.prefetchAfterStore(ctx, cdnSvc, im)
		}})
}

// uploadMounts builds the tus endpoint and the events WebSocket.
func (a *app) uploadMounts(ctx context.Context, sh *shared) ([]httpapi.Mount, error) {
	cfg := a.cfg
	var stage staging.Store
	if cfg.Staging() == "s3" { // shared by every replica on the bucket, inside this deployment's storage.s3_prefix
		c := cfg.Storage
		prefix := c.S3Prefix + cmp.Or(cfg.Upload.StagingS3Prefix, "staging/")
		s, err := s3stage.New(ctx, s3stage.Config{Endpoint: c.S3Endpoint, Bucket: c.S3Bucket, Region: c.S3Region,
			AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey, UseTLS: c.S3UseTLS, Prefix: prefix})
		if err != nil {
			return nil, dependencyError("upload.staging_backend", err)
		}
		stage = s
		a.log.Info("upload: tus staging on s3 at " + c.S3Endpoint + "/" + c.S3Bucket + "/" + prefix)
	} else {
		s, err := staging.NewLocal(staging.LocalConfig{Dir: dataPath(cfg, cfg.Upload.StagingDir, "staging")})
		if err != nil {
			return nil, fmt.Errorf("upload.staging_dir: %w", err)
		}
		stage = s
	}
	proxies, err := prefixes(cfg.Server.TrustedProxies)
	if err != nil {
		return nil, err
	}
	maxSize := cfg.Upload.TusMaxSize
	if maxSize == 0 {
		maxSize = cfg.Upload.MaxFileBytes
	}
	th, err := tus.New(ctx, tus.Config{
		PublicURL: cfg.Server.PublicURL, TrustedProxies: proxies, MaxSize: maxSize, Expiry: cfg.Upload.TusExpiry.D(),
		MaxConcurrentPerUser: 2 * cfg.Upload.MaxConcurrentUser, MaxUnfinishedPerUser: cfg.Upload.MaxUnfinished,
		ProgressEvery: cfg.Upload.ProgressEvery.D(),
	}, tus.Deps{Store: stage, Ingest: a.ingest, Events: sh.bus, Locker: sh.locker, Metrics: a.reg, Logger: a.log})
	if err != nil {
		return nil, fmt.Errorf("tus: %w", err)
	}
	sweepCtx, stop := context.WithCancel(context.Background())
	go th.RunSweeper(sweepCtx)
	a.closers = append(a.closers, func() error { stop(); return nil })
	wsh, err := ws.New(ws.Config{OriginPatterns: originHosts(cfg.Server.CORSOrigins)}, sh.bus, a.auth, a.log)
	if err != nil {
		return nil, err
	}
	a.log.Info("upload: tus 1.0 ready at /api/v1/uploads/, events at /api/v1/events")
	return []httpapi.Mount{
		{Pattern: "OPTIONS /api/v1/uploads/", Handler: th.Options},
		{Pattern: "/api/v1/uploads/", Handler: th.Serve, Auth: true, Upload: true},
		{Pattern: "POST /api/v1/uploads", Handler: th.Serve, Auth: true, Upload: true},
		{Pattern: "GET /api/v1/events", Handler: wsh.Serve},
	}, nil
}

// perWindow turns a rate in bytes/s into the bytes due in each window.
func perWindow(perSecond int64, window time.Duration) httpapi.MinRate {
	return httpapi.MinRate{Bytes: perSecond * int64(max(window, time.Second)/time.Second), Window: window}
}

// dataPath is dir, or <data_dir>/def when dir is empty.
func dataPath(cfg config.Config, dir, def string) string {
	if dir != "" {
		return dir
	}
	return filepath.Join(cfg.Server.DataDir, def)
}

func prefixes(cidrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, c := range cidrs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, err2 := netip.ParseAddr(c)
			if err2 != nil {
				return nil, &config.Error{Key: fmt.Sprintf("server.trusted_proxies[%d]", i), Err: err}
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p)
	}
	return out, nil
}

// originHosts turns CORS origins (https://app.example:8443) into the host
// patterns the WebSocket origin check takes.
func originHosts(origins []string) []string {
	var out []string
	for _, o := range origins {
		if o == "*" {
			out = append(out, "*")
			continue
		}
		if u, err := url.Parse(o); err == nil && u.Host != "" {
			out = append(out, u.Host)
		}
	}
	return out
}

func (a *app) openBlobs() error {
	switch a.cfg.Storage.Backend {
	case "local":
		dir := a.cfg.Storage.LocalDir
		if dir == "" {
			dir = filepath.Join(a.cfg.Server.DataDir, "blobs")
		}
		s, err := localfs.New(dir)
		if err != nil {
			return dependencyError("storage.local_dir", err)
		}
		a.blobs = s
		a.log.Info("storage: localfs ready at " + dir)
		return nil
	}
	c := a.cfg.Storage
	s, err := s3.New(context.Background(), s3.Config{Endpoint: c.S3Endpoint, Bucket: c.S3Bucket, Region: c.S3Region,
		AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey, UseTLS: c.S3UseTLS, Prefix: c.S3Prefix})
	if err != nil {
		return dependencyError("storage.s3_endpoint", err)
	}
	a.blobs = s
	a.log.Info("storage: s3 ready at " + c.S3Endpoint + "/" + c.S3Bucket)
	return nil
}

// dependencyError names the config key of a part that failed to start and
// the cause, without the layers of our own wrapping: the one line an
// operator reads, e.g. "config database.url: dial tcp 127.0.0.1:1: connect:
// connection refused".
func dependencyError(key string, err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return ce
	}
	return &config.Error{Key: key, Err: cause(err)}
}

// cause is the innermost error that is not one of our own *imgmgr.Error
// wrappers (which add an op and a code the operator does not need).
func cause(err error) error {
	for {
		var ie *imgmgr.Error
		if !errors.As(err, &ie) || ie.Err == nil {
			return err
		}
		err = ie.Err
	}
}

func (a *app) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Error("closing", "err", err)
		}
	}
	a.closers = nil
}

// jwtKey decodes auth.jwt_key, or reads (creating once) <data_dir>/jwt.key.
func jwtKey(cfg config.Config) ([]byte, error) {
	if k := cfg.Auth.JWTKey; k != "" {
		if b, err := hex.DecodeString(k); err == nil && len(b) >= 32 {
			return b, nil
		}
		if b, err := base64.StdEncoding.DecodeString(k); err == nil && len(b) >= 32 {
			return b, nil
		}
		return nil, &config.Error{Key: "auth.jwt_key", Err: errors.New("must be hex or base64 of at least 32 bytes")}
	}
	path := filepath.Join(cfg.Server.DataDir, "jwt.key")
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if os.IsExist(err) { // another process made it first
			return os.ReadFile(path)
		}
		return nil, fmt.Errorf("auth: writing %s: %w", path, err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		return nil, err
	}
	return b, f.Sync()
}
