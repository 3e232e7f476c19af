package cdn

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Warmer prefetches by GETting public URLs through the CDN (for vendors
// without a push API), a few at a time and at a bounded rate, so that
// warming never floods the origin.
type Warmer struct {
	Client      *http.Client // default http.DefaultClient
	Concurrency int          // GETs at once; default 4
	PerSecond   float64      // GETs started per second; default 20
}

// WarmLimits are the limits a provider that warms by GET declares: one
// prefetch request covers up to 100 objects.
func (w *Warmer) WarmLimits() Limits {
	return Limits{MaxObjects: 100}
}

// Warm GETs every object (with its Accept) and reads the body to the end.
// It fails unless every answer is a 2xx; a 429 or 503 is retryable with the
// Retry-After it carries.
func (w *Warmer) Warm(ctx context.Context, provider string, objs []Object) (Receipt, error) {
	conc, per := w.Concurrency, w.PerSecond
	if conc <= 0 {
		conc = 4
	}
	if per <= 0 {
		per = 20
	}
	pace := NewPacer(Limits{RequestsPerSecond: per, RequestBurst: conc})
	sem := make(chan struct{}, conc)
	var (
		mu    sync.Mutex
		first error
		wg    sync.WaitGroup
	)
	for _, o := range objs {
		if err := pace.Wait(ctx, 1); err != nil {
			return Receipt{}, err
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := w.get(ctx, provider, o); err != nil {
				mu.Lock()
				first = cmpErr(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return Receipt{}, first
	}
	return Receipt{Done: true}, nil
}

func cmpErr(a, b error) error {
	if a == nil {
		return b
	}
	return a
}

func (w *Warmer) get(ctx context.Context, provider string, o Object) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.URL, nil)
	if err != nil {
		return &Error{Provider: provider, Op: "warm", Message: "bad URL", Err: err}
	}
	if o.Accept != "" {
		req.Header.Set("Accept", o.Accept)
	}
	c := w.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return &Error{Provider: provider, Op: "warm", Retry: true, Err: err}
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		retry := resp.StatusCode == 429 || resp.StatusCode >= 500
		return &Error{Provider: provider, Op: "warm", Status: resp.StatusCode, Retry: retry,
			RetryAfter: RetryAfter(resp.Header, 0), Message: fmt.Sprintf("GET %s", o.URL)}
	}
	if err != nil {
		return &Error{Provider: provider, Op: "warm", Retry: true, Err: err}
	}
	return nil
}

// RetryAfter reads a Retry-After header (seconds or an HTTP date); def
// when it is absent or unreadable.
func RetryAfter(h http.Header, def time.Duration) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return def
}
