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
