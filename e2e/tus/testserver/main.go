// Command testserver runs imgmgr's HTTP API with the tus endpoint and the
// events WebSocket wired through the real packages (SQLite, local blobs,
// libvips, ingest, auth, httpapi), for the tus end-to-end suite in the
// directory above. It stands in for cmd/imgmgr until that binary mounts
// /api/v1/uploads/ and /api/v1/events itself; the suite runs against either
// (IMGMGR_E2E_BIN).
//
//	testserver --port 8080 --data-dir ./data [--redis-url redis://...]   (or IMGMGR_REDIS_URL)
//
// The first admin comes from IMGMGR_ADMIN_USERNAME/IMGMGR_ADMIN_PASSWORD.
// It prints "listening on http://HOST:PORT" once it accepts connections.
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imgmgr/imgmgr/auth"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/blob/localfs"
	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/events/redisbus"
	"github.com/imgmgr/imgmgr/events/ws"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/images"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/meta/sqlite"
	"github.com/imgmgr/imgmgr/upload"
	"github.com/imgmgr/imgmgr/upload/staging"
	"github.com/imgmgr/imgmgr/upload/tus"
	"github.com/imgmgr/imgmgr/upload/tus/redislock"
	"github.com/imgmgr/imgmgr/vips"
)

func main() {
	port := flag.Int("port", 8080, "port on 127.0.0.1")
	dataDir := flag.String("data-dir", "./data", "data directory")
	redisURL := flag.String("redis-url", os.Getenv("IMGMGR_REDIS_URL"), "share events and upload locks through Redis")
	redisPrefix := flag.String("redis-prefix", cmp.Or(os.Getenv("IMGMGR_REDIS_PREFIX"), "imgmgr:"), "Redis key and channel prefix")
	maxSize := flag.Int64("max-size", 200<<20, "largest upload in bytes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *port, *dataDir, *redisURL, *redisPrefix, *maxSize); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, port int, dataDir, redisURL, redisPrefix string, maxSize int64) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for _, d := range []string{"blobs", "tmp", "staging"} {
		if err := os.MkdirAll(filepath.Join(dataDir, d), 0o750); err != nil {
			return err
		}
	}
	store, err := sqlite.Open(ctx, filepath.Join(dataDir, "imgmgr.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	blobs, err := localfs.New(filepath.Join(dataDir, "blobs"))
	if err != nil {
		return err
	}
	if err := vips.Startup(vips.Config{}); err != nil {
		return err
	}
	bus, err := newBus(ctx, redisURL, redisPrefix)
	if err != nil {
		return err
	}
	defer bus.Close()
	authSvc, err := auth.New(auth.Config{JWTKey: []byte("e2e-test-key-of-at-least-32-bytes-long!")}, store)
	if err != nil {
		return err
	}
	if _, _, err := authSvc.Bootstrap(ctx, os.Getenv("IMGMGR_ADMIN_USERNAME"), os.Getenv("IMGMGR_ADMIN_PASSWORD")); err != nil {
		return err
	}
	locks := &blob.Locks{}
	ing, err := ingest.New(ingest.Config{MaxFileBytes: maxSize, TempDir: filepath.Join(dataDir, "tmp")},
		ingest.Deps{Meta: store, Blobs: blobs, Locks: locks, Decoder: vips.Decoder{}, Events: bus, Logger: log})
	if err != nil {
		return err
	}
	stage, err := staging.NewLocal(staging.LocalConfig{Dir: filepath.Join(dataDir, "staging")})
	if err != nil {
		return err
	}
	deps := tus.Deps{Store: stage, Ingest: ing, Events: bus, Logger: log}
	if redisURL != "" { // replicas share the staging directory: lock uploads across them
		l, err := redislock.New(ctx, redislock.Config{URL: redisURL, Prefix: redisPrefix})
		if err != nil {
			return err
		}
		defer l.Close()
		deps.Locker = l
	}
	th, err := tus.New(ctx, tus.Config{MaxSize: maxSize}, deps)
	if err != nil {
		return err
	}
	go th.RunSweeper(ctx)
	wsh, err := ws.New(ws.Config{}, bus, authSvc, log)
	if err != nil {
		return err
	}
	api := httpapi.New(httpapi.Deps{
		Auth: authSvc, Images: images.New(images.Deps{Meta: store, Blobs: blobs, Locks: locks, Logger: log}), Meta: store,
		Upload: upload.NewMultipart(upload.MultipartConfig{}, ing, bus),
		Mounts: []httpapi.Mount{
			{Pattern: "OPTIONS /api/v1/uploads/", Handler: th.Options},
			{Pattern: "/api/v1/uploads/", Handler: th.Serve, Auth: true},
			{Pattern: "GET /api/v1/events", Handler: wsh.Serve},
		},
		Registry: prometheus.NewRegistry(), Logger: log,
	})
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	go func() { <-ctx.Done(); srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

func newBus(ctx context.Context, url, prefix string) (events.Bus, error) {
	if url == "" {
		return events.NewLocal(events.LocalConfig{})
	}
	return redisbus.New(ctx, redisbus.Config{URL: url, Prefix: prefix})
}
