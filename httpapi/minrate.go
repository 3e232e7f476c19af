package httpapi

import (
	"io"
	"net/http"
	"time"
)

// MinRate is the slowest a request body may arrive: at least Bytes within
// every Window. A client that trickles (slowloris) has its connection cut
// instead of holding a worker; slow but steady uploads keep going.
type MinRate struct {
	Bytes  int64         // per window; 0 disables the check
	Window time.Duration // default 30s
}

// withDefaults fills the default window; on is false when the check is off.
func (mr MinRate) withDefaults() (_ MinRate, on bool) {
	if mr.Window <= 0 {
		mr.Window = 30 * time.Second
	}
	return mr, mr.Bytes > 0
}

// withMinRate enforces the minimum body rate with read deadlines that move
// forward as bytes arrive.
func withMinRate(mr MinRate, next http.Handler) http.Handler {
	mr, on := mr.withDefaults()
	if !on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			r.Body = &minRateBody{ReadCloser: r.Body, ctl: http.NewResponseController(w), rate: mr, start: time.Now()}
		}
		next.ServeHTTP(w, r)
	})
}

type minRateBody struct {
	io.ReadCloser
	ctl   *http.ResponseController
	rate  MinRate
	start time.Time // of the current window
	n     int64     // bytes in the current window
}

func (b *minRateBody) Read(p []byte) (int, error) {
	if b.n >= b.rate.Bytes { // this window's quota arrived: open the next one
		b.start, b.n = time.Now(), 0
	}
	_ = b.ctl.SetReadDeadline(b.start.Add(b.rate.Window)) // unsupported writers keep the server's timeouts
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

func (b *minRateBody) Close() error {
	_ = b.ctl.SetReadDeadline(time.Time{})
	return b.ReadCloser.Close()
}

// withMinResponseRate is the same bound on responses: a client that stops
// reading (a full receive window) has its write cut once a window passes
// without its quota of bytes accepted, freeing the connection slot, while
// a client that reads slowly but steadily gets its whole download. Large
// writes go out in pieces of one window's quota, each with a fresh
// deadline. WebSocket upgrades are left alone (they set their own).
//
// The kernel wakes a blocked writer only once a good part of the socket's
// send buffer has drained, so writes progress in bursts: the window must
// be long enough for a slow reader to drain that much (nginx's
// send_timeout has the same shape; 30 s is the default here).
func withMinResponseRate(mr MinRate, next http.Handler) http.Handler {
	mr, on := mr.withDefaults()
	if !on {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		mw := &minRateWriter{ResponseWriter: w, ctl: http.NewResponseController(w), rate: mr, start: time.Now()}
		defer func() { _ = mw.ctl.SetWriteDeadline(time.Time{}) }() // the connection may serve another request
		next.ServeHTTP(mw, r)
	})
}

type minRateWriter struct {
	http.ResponseWriter
	ctl   *http.ResponseController
	rate  MinRate
	start time.Time // of the current window
	n     int64     // bytes accepted in the current window
}

func (m *minRateWriter) Write(p []byte) (int, error) {
	var done int
	for len(p) > 0 {
		if m.n >= m.rate.Bytes {
			m.start, m.n = time.Now(), 0
		}
		chunk := p[:min(int64(len(p)), m.rate.Bytes-m.n)]
		_ = m.ctl.SetWriteDeadline(m.start.Add(m.rate.Window))
		n, err := m.ResponseWriter.Write(chunk)
		done += n
		m.n += int64(n)
		if err != nil {
			return done, err
		}
		p = p[n:]
	}
	return done, nil
}

// Unwrap lets http.ResponseController reach the connection (Flush,
// deadlines) through the wrapper.
func (m *minRateWriter) Unwrap() http.ResponseWriter { return m.ResponseWriter }

// Flush keeps the writer an http.Flusher for code that asserts it.
func (m *minRateWriter) Flush() { _ = m.ctl.Flush() }
