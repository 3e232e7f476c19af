package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"syscall"
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

// Regression (issue 10 item 2): clients that GET a large original with a
// tiny receive buffer and never read kept server.max_connections full, so
// /healthz from a new client waited for minutes. Their writes are now cut
// after server.body_rate_window without progress, freeing the slots.
func TestStalledReadersDoNotHoldTheConnectionCap(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Server.MaxConnections = 4
		c.Server.BodyRateWindow = config.Duration(2 * time.Second)
	})
	_, up := ts.upload(ts.token, nil, filePart{"big.jpg", paddedJPEG(t, 24<<20)})
	id := up.Results[0].Image.ID
	ts.srv.Close() // the same handler, behind the capped listener

	cfg := ts.app.cfg
	cfg.Server.Host, cfg.Server.Port = "127.0.0.1", 0
	ln, err := listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpServer(ts.app.handler, slog.New(slog.DiscardHandler))
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	for range cfg.Server.MaxConnections {
		c, err := (&net.Dialer{Control: smallReceiveBuffer}).Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintf(c, "GET /api/v1/images/%s/original HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer %s\r\n\r\n", id, ts.token)
	}
	start := time.Now()
	c := &http.Client{Timeout: 60 * time.Second} // a safety net for a hang, not a speed bound
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz while %d stalled readers hold the cap: %v", cfg.Server.MaxConnections, err)
	}
	resp.Body.Close()
	t.Logf("/healthz answered %d after %v with %d stalled readers at the cap (window %v)",
		resp.StatusCode, time.Since(start).Round(time.Millisecond), cfg.Server.MaxConnections, cfg.Server.BodyRateWindow.D())
}

// smallReceiveBuffer is a dialer's Control that sets a 4 KiB SO_RCVBUF.
func smallReceiveBuffer(_, _ string, rc syscall.RawConn) error {
	var serr error
	err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	return errors.Join(err, serr)
}
