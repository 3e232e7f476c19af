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

// startCapped serves h on 127.0.0.1 with server.max_connections = max,
// through the same listener and server set-up as serve.
func startCapped(t *testing.T, max int, h http.Handler) string {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Host, cfg.Server.Port, cfg.Server.MaxConnections = "127.0.0.1", 0, max
	ln, err := listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httpServer(h, slog.New(slog.DiscardHandler), ln)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// Regression: server.max_connections (default 1024) was declared and
// validated but the listener was never capped, so a flood of connections
// had no bound. With a cap of 1, a second connection is not served while
// the first has a request in flight, and is served once that ends.
func TestMaxConnectionsCapsTheListener(t *testing.T) {
	release := make(chan struct{})
	addr := startCapped(t, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "ok")
	}))
	first := dial(t, addr)
	get(t, first, "/slow")
	second := dial(t, addr)
	get(t, second, "/")
	second.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	br := bufio.NewReader(second)
	if _, err := http.ReadResponse(br, nil); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("second connection served beyond a cap of 1 while the first is busy (err %v)", err)
	}
	close(release)
	if _, err := http.ReadResponse(bufio.NewReader(first), nil); err != nil {
		t.Fatalf("first connection: %v", err)
	}
	second.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := http.ReadResponse(br, nil); err != nil {
		t.Fatalf("second connection after the first finished: %v", err)
	}
}

// Regression (issue 10, item 13): at the cap, idle keep-alive connections
// held every slot until their IdleTimeout (120 s), so with 2,000 idle
// sockets open a real request waited for a slot. Now the longest-idle
// connection is closed to make room: with a cap of 3 and three idle
// keep-alive connections, a fourth client is served, and the oldest idle
// connection is the one closed.
func TestMaxConnectionsShedsIdleKeepAlives(t *testing.T) {
	addr := startCapped(t, 3, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	var idle []*bufio.Reader
	var conns []net.Conn
	for range 3 {
		c := dial(t, addr)
		get(t, c, "/")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		conns, idle = append(conns, c), append(idle, br)
		time.Sleep(10 * time.Millisecond) // distinct idle-since times: the first is the oldest
	}
	fourth := dial(t, addr)
	get(t, fourth, "/")
	fourth.SetReadDeadline(time.Now().Add(30 * time.Second)) // far below the 120 s IdleTimeout
	if _, err := http.ReadResponse(bufio.NewReader(fourth), nil); err != nil {
		t.Fatalf("a new client at the cap, with every slot idle: %v", err)
	}
	conns[0].SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := idle[0].ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("the oldest idle connection was not closed: %v", err)
	}
	for i := 1; i < 3; i++ { // the others kept their slots
		get(t, conns[i], "/")
		conns[i].SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := http.ReadResponse(idle[i], nil); err != nil {
			t.Fatalf("idle connection %d after the shedding: %v", i, err)
		}
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func get(t *testing.T, c net.Conn, path string) {
	t.Helper()
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
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
	srv := httpServer(ts.app.handler, slog.New(slog.DiscardHandler), ln)
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
