package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr/auth"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/localfs"
	"github.com/imgmgr/imgmgr/blob/s3"
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/images"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/meta/postgres"
	"github.com/imgmgr/imgmgr/meta/sqlite"
	"github.com/imgmgr/imgmgr/observe"
	"github.com/imgmgr/imgmgr/upload"
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
			return nil, fmt.Errorf("database: %w", err)
		}
		log.Info("database: postgres ready")
		return s, nil
	default:
		path := strings.TrimPrefix(u, "sqlite:")
		if path == "" {
			path = filepath.Join(cfg.Server.DataDir, "imgmgr.db")
		}
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("database: sqlite %s: %w", path, err)
		}
		log.Info("database: sqlite ready at " + path)
		return s, nil
	}
}

// build opens every component and wires them together.
func build(ctx context.Context, cfg config.Config, log *slog.Logger) (a *app, err error) {
	a = &app{cfg: cfg, log: log, reg: observe.NewRegistry()}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if err := os.MkdirAll(cfg.Server.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("server.data_dir: %w", err)
	}
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
	key, err := jwtKey(cfg)
	if err != nil {
		return nil, err
	}
	if a.auth, err = auth.New(auth.Config{JWTKey: key, AccessTTL: cfg.Auth.AccessTTL.D(), RefreshTTL: cfg.Auth.RefreshTTL.D()}, a.meta); err != nil {
		return nil, err
	}
	locks := &blob.Locks{}
	a.images = images.New(images.Deps{Meta: a.meta, Blobs: a.blobs, Locks: locks, Logger: log})
	tmp := cfg.Upload.TempDir
	if tmp == "" {
		tmp = filepath.Join(cfg.Server.DataDir, "tmp")
	}
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("upload.temp_dir: %w", err)
	}
	a.ingest, err = ingest.New(ingest.Config{
		MaxFileBytes: cfg.Upload.MaxFileBytes, MemoryThreshold: cfg.Upload.MemoryThreshold, TempDir: tmp,
		MaxPixels: cfg.Limits.MaxPixels, MaxFrames: cfg.Limits.MaxFrames, MaxTotalPixels: cfg.Limits.MaxTotalPixels,
		MaxConcurrent: cfg.Upload.MaxConcurrent, ScanFailOpen: cfg.Scan.FailOpen,
	}, ingest.Deps{Meta: a.meta, Blobs: a.blobs, Locks: locks, Decoder: vips.Decoder{}, Metrics: a.reg, Logger: log})
	if err != nil {
		return nil, err
	}
	mp := upload.NewMultipart(upload.MultipartConfig{MaxFiles: cfg.Upload.MaxFilesPerUpload}, a.ingest, nil)
	a.handler = httpapi.New(httpapi.Deps{
		Auth: a.auth, Images: a.images, Meta: a.meta, Upload: mp,
		Ready:       map[string]httpapi.Checker{"database": a.meta, "storage": a.blobs},
		UI:          web.Handler(),
		CORSOrigins: cfg.Server.CORSOrigins,
		Registry:    a.reg, Logger: log,
	})
	log.Info("http: routes ready")
	return a, nil
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
			return fmt.Errorf("storage.local_dir: %w", err)
		}
		a.blobs = s
		a.log.Info("storage: localfs ready at " + dir)
		return nil
	}
	c := a.cfg.Storage
	s, err := s3.New(context.Background(), s3.Config{Endpoint: c.S3Endpoint, Bucket: c.S3Bucket, Region: c.S3Region,
		AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey, UseTLS: c.S3UseTLS})
	if err != nil {
		return fmt.Errorf("storage.s3_endpoint: %w", err)
	}
	a.blobs = s
	a.log.Info("storage: s3 ready at " + c.S3Endpoint + "/" + c.S3Bucket)
	return nil
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

func cores() int { return runtime.NumCPU() }
