package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/observe"
)

// serve runs the server until ctx ends, then drains within the bound.
func serve(ctx context.Context, cfg config.Config, stdout io.Writer, getenv func(string) string) error {
	log := observe.NewLogger(stdout, cfg.Log.Level, cfg.Log.Format)
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	user, generated, err := a.auth.Bootstrap(ctx, getenv("IMGMGR_ADMIN_USERNAME"), getenv("IMGMGR_ADMIN_PASSWORD"))
	if err != nil {
		return fmt.Errorf("creating the first admin: %w", err)
	}
	if generated != "" {
		fmt.Fprintf(stdout, "\n  first start: created admin user %q with password %s\n  (shown once; change it with `imgmgr user passwd %s`)\n\n", user, generated, user)
	} else if user != "" {
		log.Info("auth: created first admin", "username", user)
	}
	ln, err := listen(cfg)
	if err != nil {
		return err
	}
	srv := httpServer(a.handler, log, ln)
	log.Info("http: listening", "addr", ln.Addr().String(), "max_connections", cfg.Server.MaxConnections)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: draining requests", "within", cfg.Server.ShutdownTimeout.D().String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout.D())
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	srv.Close()
	// Handlers cut off by Close may still be running (an ingest, a render):
	// give them a moment to notice before the stores close under them.
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := a.handler.Wait(wctx); err != nil {
		log.Warn("handlers still running at exit", "err", err)
	}
	log.Info("stopped")
	return nil
}

// listen opens the server's socket, capped at server.max_connections open
// connections (0 = no cap): at the cap an idle keep-alive connection is
// closed to make room, and when none is idle new connections wait in the
// kernel's accept queue until one closes (see connLimiter).
func listen(cfg config.Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Server.Host, strconv.Itoa(cfg.Server.Port)))
	if err != nil {
		return nil, fmt.Errorf("server.port: %w", err)
	}
	if n := cfg.Server.MaxConnections; n > 0 {
		return newConnLimiter(ln, n), nil
	}
	return ln, nil
}

// httpServer is the HTTP server around h that will serve ln. Request
// bodies have no overall deadline (large uploads are slow); headers must
// arrive within 10s. The server's own complaints (TLS, bad requests) go to
// the structured log. When ln caps connections, the server tells it which
// are idle, so it can shed those first.
func httpServer(h http.Handler, log *slog.Logger, ln net.Listener) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if l, ok := ln.(*connLimiter); ok {
		srv.ConnState = l.track
	}
	return srv
}
