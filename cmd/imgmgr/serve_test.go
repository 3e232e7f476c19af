package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/config"
)

// Regression: server.max_connections (default 1024) was declared and
// validated but the listener was never capped, so a flood of connections
// had no bound. With a cap of 1, a second connection is not served while
// the first is open, and is served once it closes.
func TestMaxConnectionsCapsTheListener(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Host, cfg.Server.Port, cfg.Server.MaxConnections = "127.0.0.1", 0, 1
	ln, err := listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	first := dialAndGet(t, ln.Addr().String())
	if _, err := http.ReadResponse(bufio.NewReader(first), nil); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	second := dialAndGet(t, ln.Addr().String())
	second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	br := bufio.NewReader(second)
	if _, err := http.ReadResponse(br, nil); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection served beyond a cap of 1 (err %v)", err)
	}
	first.Close()
	second.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := http.ReadResponse(br, nil); err != nil {
		t.Fatalf("second connection after the first closed: %v", err)
	}
}

func dialAndGet(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	return c
}
