package main

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Server.Host, strconv.Itoa(cfg.Server.Port)))
	if err != nil {
		return fmt.Errorf("server.port: %w", err)
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          nil,
	}
	log.Info("http: listening", "addr", ln.Addr().String())
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
	log.Info("stopped")
	return nil
}
