package cdn

import (
	"context"
	"time"

	"golang.org/x/time/rate"
)

// Batches cuts n objects into consecutive runs [lo, hi) that fit one
// request under l: at most MaxObjects each and, with MaxBodyBytes, an
// estimated body (size(i) per object plus overhead) under the bound. An
// object too large for any request gets a run of its own, for the vendor
// to refuse.
func Batches(n int, l Limits, overhead int, size func(i int) int) [][2]int {
	var out [][2]int
	lo, body := 0, overhead
	for i := 0; i < n; i++ {
		sz := 0
		if l.MaxBodyBytes > 0 {
			sz = size(i)
		}
		full := l.MaxObjects > 0 && i-lo >= l.MaxObjects
		tooBig := l.MaxBodyBytes > 0 && body+sz > l.MaxBodyBytes && i > lo
		if full || tooBig {
			out = append(out, [2]int{lo, i})
			lo, body = i, overhead
		}
		body += sz
	}
	if n > lo {
		out = append(out, [2]int{lo, n})
	}
	return out
}

// Pacer keeps requests and their objects under a vendor's rates, so a
// burst of work is spread out instead of answered with 429s.
type Pacer struct {
	requests, objects *rate.Limiter
}

// PaceMargin is the share of a vendor's documented rate the pacer uses:
// running exactly at the vendor's refill rate races its bucket and earns
// the odd 429.
const PaceMargin = 0.9

// NewPacer paces by l's rates (a zero rate is not paced).
func NewPacer(l Limits) *Pacer {
	mk := func(r float64, b int) *rate.Limiter {
		if r <= 0 {
			return rate.NewLimiter(rate.Inf, 0)
		}
		return rate.NewLimiter(rate.Limit(r*PaceMargin), max(b, 1))
	}
	return &Pacer{requests: mk(l.RequestsPerSecond, l.RequestBurst), objects: mk(l.ObjectsPerSecond, l.ObjectBurst)}
}

// Wait blocks until a request of n objects may be sent, or ctx ends.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	if err := p.requests.Wait(ctx); err != nil {
		return err
	}
	if b := p.objects.Burst(); p.objects.Limit() != rate.Inf && n > b {
		n = b // larger than the bucket: wait for a full one
	}
	return p.objects.WaitN(ctx, n)
}

// Delay is how long Wait would block now for a request of n objects.
func (p *Pacer) Delay(n int) time.Duration {
	now := time.Now()
	d := time.Duration(0)
	for l, k := range map[*rate.Limiter]int{p.requests: 1, p.objects: n} {
		if l.Limit() == rate.Inf {
			continue
		}
		res := l.ReserveN(now, min(k, max(l.Burst(), 1)))
		d = max(d, res.DelayFrom(now))
		res.CancelAt(now)
	}
	return d
}

// Scale returns l with its rates multiplied by f (tests that run the
// vendors' limits on a faster clock); f <= 0 or 1 leaves l alone.
func (l Limits) Scale(f float64) Limits {
	if f > 0 {
		l.RequestsPerSecond *= f
		l.ObjectsPerSecond *= f
	}
	return l
}
