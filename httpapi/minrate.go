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

// withMinRate enforces the minimum body rate with read deadlines that move
// forward as bytes arrive.
func withMinRate(mr MinRate, next http.Handler) http.Handler {
	if mr.Bytes <= 0 {
		return next
	}
	if mr.Window <= 0 {
		mr.Window = 30 * time.Second
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
