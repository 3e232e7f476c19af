// Command flood floods a running imgmgr with uploads over loopback and
// prints what came back: counts of 201, 429, 503, other 4xx and any other
// 5xx (which must be 0), latency percentiles, the server's resident memory
// before, at peak and after (from /proc/PID/status), whether /healthz kept
// answering during the flood, and whether the server's goroutine count (from
// /metrics) went back to its baseline afterwards.
//
// It starts nothing itself: give it the server's URL, an admin's
// credentials and the server's pid. It creates -users users (so that the
// per-principal limits bite) and logs each in, then starts -clients
// clients at once, each uploading a real small JPEG made unique per request
// by a JPEG comment segment, until -duration passes or -requests have been
// sent. Loopback only: it refuses any other host.
//
//	go build -o /tmp/imgmgr ./cmd/imgmgr
//	IMGMGR_ADMIN_PASSWORD=... IMGMGR_RATELIMIT_UPLOADS_PER_MINUTE=30 ... /tmp/imgmgr --data-dir $(mktemp -d) --port 8080 &
//	go run ./bench/flood -url http://127.0.0.1:8080 -admin admin -password ... -pid $! -clients 500 -duration 30s
//
// The hostile mix (issue 10): -chunked 0.5 sends half the multipart
// uploads without Content-Length, -slow-readers 40 keeps 40 clients that
// GET a large original and never read it (start the server with a short
// server.body_rate_window and -slow-hold longer than it), and -render-mix
// 0.05 asks for a variant whose render runs past delivery.render_timeout.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	base        string
	admin       string
	password    string
	pid         int
	users       int
	clients     int
	duration    time.Duration
	requests    int64
	jpeg        string
	tus         float64
	xff         bool
	polite      bool
	settle      time.Duration
	healthEvery time.Duration
	chunked     float64
	slowReaders int
	slowHold    time.Duration
	renderMix   float64
	renderOpts  string
	bigSize     int
}

func parseFlags() options {
	var o options
	flag.StringVar(&o.base, "url", "http://127.0.0.1:8080", "server origin (loopback only)")
	flag.StringVar(&o.admin, "admin", "admin", "admin username")
	flag.StringVar(&o.password, "password", os.Getenv("IMGMGR_ADMIN_PASSWORD"), "admin password (default $IMGMGR_ADMIN_PASSWORD)")
	flag.IntVar(&o.pid, "pid", 0, "server pid, to read its memory from /proc (0: not reported)")
	flag.IntVar(&o.users, "users", 20, "users to create; clients are spread over them")
	flag.IntVar(&o.clients, "clients", 500, "clients uploading at once")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "flood for at most this long")
	flag.Int64Var(&o.requests, "requests", 20000, "send at most this many uploads in all")
	flag.StringVar(&o.jpeg, "jpeg", "testdata/images/photo/concert.jpg", "the JPEG to upload (made unique per request)")
	flag.Float64Var(&o.tus, "tus", 0, "fraction of uploads sent through tus (create + one PATCH) instead of multipart")
	flag.BoolVar(&o.xff, "xff", false, "send a distinct X-Forwarded-For per client (believed only when the server trusts loopback as a proxy)")
	flag.BoolVar(&o.polite, "polite", false, "clients wait out Retry-After after a 429 or 503 (default: retry at once, like a hostile client)")
	flag.DurationVar(&o.settle, "settle", 30*time.Second, "after the flood, wait at most this long for goroutines to return to baseline")
	flag.DurationVar(&o.healthEvery, "health-every", 100*time.Millisecond, "poll /healthz this often during the flood")
	flag.Float64Var(&o.chunked, "chunked", 0, "fraction of multipart uploads sent chunked (no Content-Length)")
	flag.IntVar(&o.slowReaders, "slow-readers", 0, "clients that GET a large original and stop reading it")
	flag.DurationVar(&o.slowHold, "slow-hold", 40*time.Second, "how long a slow reader stops reading before it drains and asks again (longer than server.body_rate_window)")
	flag.Float64Var(&o.renderMix, "render-mix", 0, "fraction of requests that ask for a variant whose render runs past delivery.render_timeout")
	flag.StringVar(&o.renderOpts, "render-opts", "rs:force:7000:7000:1/q:100@avif", "the slow variant of -render-mix")
	flag.IntVar(&o.bigSize, "big-size", 24<<20, "bytes of the large original for -slow-readers and -render-mix")
	flag.Parse()
	return o
}

func main() {
	o := parseFlags()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if err := loopbackOnly(o.base); err != nil {
		return err
	}
	img, err := os.ReadFile(o.jpeg)
	if err != nil {
		return err
	}
	if len(img) < 4 || img[0] != 0xFF || img[1] != 0xD8 {
		return fmt.Errorf("%s is not a JPEG", o.jpeg)
	}
	c := newClient(o.base, o.clients)
	mem := newMemWatch(o.pid)
	baseGR, err := c.goroutines()
	if err != nil {
		return fmt.Errorf("reading /metrics: %w", err)
	}
	setupStart := time.Now()
	tokens, err := c.setupUsers(o.admin, o.password, o.users)
	if err != nil {
		return err
	}
	setup := time.Since(setupStart)
	fmt.Printf("setup: %d users created and logged in in %.1fs\n", len(tokens), setup.Seconds())

	mix, err := c.setupMix(o, img)
	if err != nil {
		return err
	}
	before := mem.sample()
	st := newStats()
	health := startHealth(c, o.healthEvery)
	var slow *slowReaders
	if o.slowReaders > 0 {
		slow = startSlowReaders(o.base, "/api/v1/images/"+mix.bigID+"/original", mix.adminTok, o.slowReaders, o.slowHold)
	}
	grPeak := startGoroutineWatch(c)
	mem.start()
	elapsed := flood(c, o, img, tokens, st, mix)
	if slow != nil {
		cuts, served := slow.end()
		fmt.Printf("slow readers: %d holding a %d-byte original unread for %v at a time: %d cut by the server, %d served whole\n",
			o.slowReaders, o.bigSize, o.slowHold, cuts, served)
	}
	mem.stop()
	hs := health.stop()
	peakGR := grPeak.stop()
	afterGR, settled := c.settle(baseGR, o.settle)
	after := mem.sample()

	fmt.Println()
	st.print(os.Stdout, elapsed)
	printHealth(os.Stdout, hs)
	fmt.Printf("\ngoroutines (go_goroutines): baseline %d, peak %d during the flood, %d after (%s)\n",
		baseGR, peakGR, afterGR, settled)
	mem.print(os.Stdout, before, after)
	if n := st.serverErrors(); n > 0 {
		return fmt.Errorf("%d responses were 5xx other than 503/507, or unanswered", n)
	}
	return nil
}

// flood runs o.clients clients at once until the time or count runs out.
func flood(c *client, o options, img []byte, tokens []string, st *stats, mix mixSetup) time.Duration {
	var sent atomic.Int64
	var wg sync.WaitGroup
	startGate := make(chan struct{})
	for i := range o.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{c: c, id: i, token: tokens[i%len(tokens)], img: img, st: st, tusShare: o.tus,
				chunked: o.chunked, renderMix: o.renderMix, renderPath: mix.renderPath}
			if o.xff {
				w.xff = fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
			}
			<-startGate
			w.deadline, w.polite = time.Now().Add(o.duration), o.polite
			// Uploads in flight at the deadline finish: only new ones stop.
			for time.Now().Before(w.deadline) && sent.Add(1) <= o.requests {
				w.upload()
			}
		}()
	}
	start := time.Now()
	close(startGate)
	wg.Wait()
	return time.Since(start)
}

// loopbackOnly refuses a URL whose host is not a loopback address.
func loopbackOnly(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-url %q: want http://127.0.0.1:PORT", raw)
	}
	addrs, err := net.LookupIP(u.Hostname())
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if !a.IsLoopback() {
			return errors.New("-url: flood runs against loopback only")
		}
	}
	return nil
}
