// Command variants is a load generator for image servers: it requests
// URL paths against one or more base URLs and prints, per base and path,
// requests/s, p50/p99 latency, bytes out and, when the server's pid is
// given, its CPU time per request and peak RSS. It drives imgmgr and, side
// by side, any other image server (imgproxy, ...) with its own paths.
//
//	go run ./bench/variants -c 16 -n 200 \
//	    -case 'imgmgr-cold-jpeg=http://127.0.0.1:9100/img/SIG/rs:fit:800:800/ID.jpg' \
//	    -case 'imgproxy-jpeg=http://127.0.0.1:8081/insecure/rs:fit:800:800/plain/local:///big.jpg@jpg' \
//	    -pid 1234
//
// `go run ./bench/variants/serve` starts imgmgr's delivery on a 12 MP JPEG
// with the cache off (cold) and on (warm), and prints ready-made -case
// flags.
package main

import (
	"flag"
	"fmt"
	"github.com/imgmgr/imgmgr/bench/internal/procstat"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

type caseFlag []string

func (c *caseFlag) String() string     { return strings.Join(*c, " ") }
func (c *caseFlag) Set(s string) error { *c = append(*c, s); return nil }

func main() {
	var cases caseFlag
	flag.Var(&cases, "case", "name=URL[|URL...] to request (repeatable); request i uses URL i mod count, so distinct URLs defeat caching and coalescing")
	n := flag.Int("n", 100, "requests per case")
	c := flag.Int("c", 8, "concurrent requests")
	accept := flag.String("accept", "image/webp,image/avif,*/*", "Accept header")
	pid := flag.Int("pid", 0, "server pid, for CPU per request and peak RSS (Linux /proc)")
	warmup := flag.Int("warmup", 0, "requests per case before measuring (fill caches)")
	flag.Parse()
	if len(cases) == 0 {
		fmt.Fprintln(os.Stderr, "give at least one -case name=URL")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c * 2}}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "case\treq/s\tp50 ms\tp99 ms\tbytes/resp\tMB out\terrors\tCPU ms/req\tpeak RSS MB\t")
	for _, cs := range cases {
		name, list, ok := strings.Cut(cs, "=")
		urls := strings.Split(list, "|")
		if !ok {
			fmt.Fprintln(os.Stderr, "bad -case (want name=URL):", cs)
			os.Exit(2)
		}
		if *warmup > 0 {
			run(client, urls, *accept, *warmup, *c)
		}
		cpu0 := procstat.CPUSeconds(*pid)
		stopWatch := procstat.WatchRSS(*pid, 10*time.Millisecond)
		r := run(client, urls, *accept, *n, *c)
		peak := stopWatch()
		cpu := (procstat.CPUSeconds(*pid) - cpu0) * 1000 / float64(*n)
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%d\t%.1f\t%d\t%s\t%s\t\n", name, float64(*n)/r.elapsed.Seconds(),
			ms(r.pct(50)), ms(r.pct(99)), r.bytes/int64(max(*n, 1)), float64(r.bytes)/1e6, r.errors,
			ifPID(*pid, fmt.Sprintf("%.1f", cpu)), ifPID(*pid, fmt.Sprintf("%.0f", float64(peak)/(1<<20))))
	}
	tw.Flush()
}

type result struct {
	lat     []time.Duration
	bytes   int64
	errors  int
	elapsed time.Duration
}

func (r *result) pct(p int) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	slices.Sort(r.lat)
	return r.lat[min(len(r.lat)*p/100, len(r.lat)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func ifPID(pid int, s string) string {
	if pid == 0 {
		return "-"
	}
	return s
}

// run sends n GETs, cycling through urls, with c workers.
func run(client *http.Client, urls []string, accept string, n, c int) *result {
	r := &result{lat: make([]time.Duration, 0, n)}
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				t0 := time.Now()
				size, err := get(client, urls[int(i)%len(urls)], accept)
				d := time.Since(t0)
				mu.Lock()
				r.lat = append(r.lat, d)
				r.bytes += size
				if err != nil {
					r.errors++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	return r
}

func get(client *http.Client, url, accept string) (int64, error) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Accept", accept)
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	if err == nil && res.StatusCode != 200 {
		err = fmt.Errorf("status %d", res.StatusCode)
	}
	return n, err
}
