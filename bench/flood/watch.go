package main

import (
	"bufio"
	"fmt"
	"github.com/imgmgr/imgmgr/bench/internal/procstat"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memWatch samples the server's VmRSS and VmHWM from /proc/PID/status.
type memWatch struct {
	pid  int
	done chan struct{}
	wg   sync.WaitGroup
	peak int64 // KiB, highest VmRSS sampled while started
}

type memSample struct{ rss, hwm int64 } // KiB

func newMemWatch(pid int) *memWatch { return &memWatch{pid: pid} }

func (m *memWatch) sample() memSample {
	return memSample{rss: procstat.Status(m.pid, "VmRSS") >> 10, hwm: procstat.Status(m.pid, "VmHWM") >> 10}
}

// start samples VmRSS every 20 ms until stop.
func (m *memWatch) start() {
	m.done = make(chan struct{})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			m.peak = max(m.peak, m.sample().rss)
			select {
			case <-m.done:
				return
			case <-t.C:
			}
		}
	}()
}

func (m *memWatch) stop() { close(m.done); m.wg.Wait() }

func (m *memWatch) print(w io.Writer, before, after memSample) {
	if m.pid == 0 {
		fmt.Fprintln(w, "server memory: not reported (no -pid)")
		return
	}
	fmt.Fprintf(w, "server RSS (VmRSS): before %.1f MiB, peak sampled %.1f MiB, after %.1f MiB; VmHWM (peak since start) before %.1f MiB, after %.1f MiB\n",
		mib(before.rss), mib(m.peak), mib(after.rss), mib(before.hwm), mib(after.hwm))
}

func mib(k int64) float64 { return float64(k) / 1024 }

// goroutines reads go_goroutines from /metrics.
func (c *client) goroutines() (int, error) {
	resp, err := c.http.Get(c.base + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int(f), err
		}
	}
	return 0, fmt.Errorf("/metrics: %s, no go_goroutines", resp.Status)
}

// settle waits until the goroutine count is back at base (or below), or
// the time runs out, and says which happened.
func (c *client) settle(base int, limit time.Duration) (int, string) {
	c.http.CloseIdleConnections() // our idle keep-alives hold server goroutines
	start := time.Now()
	for {
		n, err := c.goroutines()
		if err == nil && n <= base {
			return n, fmt.Sprintf("back at or below baseline after %.1fs", time.Since(start).Seconds())
		}
		if time.Since(start) > limit {
			return n, fmt.Sprintf("NOT back at baseline after %s", limit)
		}
		time.Sleep(250 * time.Millisecond)
		c.http.CloseIdleConnections()
	}
}

// poller calls f every period until stop.
type poller struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func poll(every time.Duration, f func()) *poller {
	p := &poller{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			f()
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *poller) halt() { close(p.done); p.wg.Wait() }

type healthStats struct {
	n, ok int
	fails map[string]int
	durs  []time.Duration
}

type healthWatch struct {
	p  *poller
	hc *http.Client
	mu sync.Mutex
	hs healthStats
}

// startHealth polls /healthz on its own connection pool.
func startHealth(c *client, every time.Duration) *healthWatch {
	hc := &http.Client{Timeout: 10 * time.Second}
	h := &healthWatch{hc: hc, hs: healthStats{fails: map[string]int{}}}
	h.p = poll(every, func() {
		start := time.Now()
		resp, err := hc.Get(c.base + "/healthz")
		d := time.Since(start)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.hs.n++
		h.hs.durs = append(h.hs.durs, d)
		switch {
		case err != nil:
			h.hs.fails[shortErr(err)]++
		case resp.StatusCode != http.StatusOK:
			h.hs.fails[resp.Status]++
		default:
			h.hs.ok++
		}
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	return h
}

func (h *healthWatch) stop() healthStats {
	h.p.halt()
	h.hc.CloseIdleConnections()
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hs
}

func printHealth(w io.Writer, hs healthStats) {
	fmt.Fprintf(w, "\n/healthz during the flood: %d polls, %d answered 200, p50 %s, p99 %s, max %s", hs.n, hs.ok,
		ms(pct(hs.durs, 50)), ms(pct(hs.durs, 99)), ms(pct(hs.durs, 100)))
	if len(hs.fails) > 0 {
		fmt.Fprintf(w, "; failures: %s", counts(hs.fails))
	}
	fmt.Fprintln(w)
}

type grWatch struct {
	p    *poller
	mu   sync.Mutex
	peak int
}

// startGoroutineWatch samples go_goroutines every 250 ms.
func startGoroutineWatch(c *client) *grWatch {
	g := &grWatch{}
	g.p = poll(250*time.Millisecond, func() {
		if n, err := c.goroutines(); err == nil {
			g.mu.Lock()
			g.peak = max(g.peak, n)
			g.mu.Unlock()
		}
	})
	return g
}

func (g *grWatch) stop() int {
	g.p.halt()
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}
