package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMinRateCutsTricklingBodies: a slowloris body is cut by the read
// deadline; a body that keeps up the rate is read whole.
func TestMinRateCutsTricklingBodies(t *testing.T) {
	results := make(chan error, 2)
	h := withMinRate(MinRate{Bytes: 1000, Window: 300 * time.Millisecond}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		results <- err
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	send := func(chunks int, pause time.Duration) {
		c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			results <- err // the test fails on the unexpected error
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", chunks*10)
		for range chunks {
			if _, err := c.Write([]byte("0123456789")); err != nil {
				return // the server cut us off
			}
			time.Sleep(pause)
		}
	}
	go send(100, 50*time.Millisecond) // 200 bytes/s: under 1000 per 300 ms
	if err := <-results; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("trickling body: read error %v, want a deadline error", err)
	}
	go send(300, 0) // 3000 bytes at once
	if err := <-results; err != nil {
		t.Fatalf("fast body: %v", err)
	}
}

// Regression (issue 10 item 2): clients that asked for a large response and
// never read it held their connections forever. A stalled reader's write is
// now cut after one window; a slow but steady reader gets every byte.
func TestMinResponseRateCutsStalledReaders(t *testing.T) {
	const size = 64 << 20 // more than the kernel's socket buffers hold
	body := make([]byte, size)
	results := make(chan error, 1)
	h := withMinResponseRate(MinRate{Bytes: 32 << 10, Window: 3 * time.Second}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		_, err := w.Write(body)
		results <- err
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()

	stalled, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	stalled.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(stalled, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	select {
	case err := <-results:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("write to a stalled reader: %v, want a deadline error", err)
		}
	case <-time.After(30 * time.Second): // a safety net for a hang, not a speed bound
		t.Fatal("the write to a stalled reader was never cut")
	}

	// A slow but steady reader (64 KiB every 50 ms for its first 4 MiB,
	// while the server is still writing) is not cut.
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got int64
	buf := make([]byte, 64<<10)
	for {
		n, err := io.ReadFull(resp.Body, buf)
		got += int64(n)
		if err != nil {
			break
		}
		if got < 4<<20 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if got != size {
		t.Fatalf("steady reader got %d of %d bytes; server: %v", got, size, <-results)
	}
	if err := <-results; err != nil {
		t.Fatalf("write to a steady reader: %v", err)
	}
}
