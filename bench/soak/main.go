// Command soak renders variants for a long time with the real libvips and
// checks that nothing crashes or leaks (issue 10 item 0). It renders a mix
// of formats, sizes, animations and cancellations (contexts cancelled
// mid-render, short deadlines) at a fixed concurrency, samples its RSS,
// and at the end counts the libvips objects still alive. It is a benchmark,
// not part of make test:
//
//	GODEBUG=cgocheck=1 nice -n 10 go run ./bench/soak -n 200000 -c 2 -dirs testdata/images,../shared/testimages
//	GODEBUG=cgocheck=1 go run -race ./bench/soak -n 1000 -c 2
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/bench/internal/procstat"
	"github.com/imgmgr/imgmgr/variant"
	"github.com/imgmgr/imgmgr/vips"
)

func main() {
	n := flag.Int("n", 200000, "renders")
	conc := flag.Int("c", 2, "renders at once")
	dirs := flag.String("dirs", "testdata/images", "comma-separated directories of input images (searched recursively)")
	maxPixels := flag.Int64("max-input-pixels", 100_000, "inputs larger than this (all frames) are picked 20× less often")
	cancelled := flag.Float64("cancel", 0.1, "share of renders whose context is cancelled mid-render")
	timedOut := flag.Float64("timeout", 0.1, "share of renders with a deadline of a few milliseconds")
	seed := flag.Uint64("seed", 1, "random seed")
	formatList := flag.String("formats", "jpeg,webp,avif,png,gif", "comma-separated output formats")
	flag.Parse()

	formats = strings.Split(*formatList, ",")
	must(vips.Startup(vips.Config{}))
	cfg := &variant.RenderConfig{}
	must(cfg.Validate())
	inputs := loadInputs(strings.Split(*dirs, ","))
	if len(inputs) == 0 {
		log.Fatal("soak: no input images")
	}
	start := vips.LiveObjects()
	s := &soak{cfg: cfg, inputs: inputs, maxPixels: *maxPixels, cancel: *cancelled, timeout: *timedOut,
		errs: map[string]int{}, total: *n}
	began := time.Now()
	s.run(*n, *conc, *seed)
	elapsed := time.Since(began)
	runtime.GC()
	end := settle(start)
	s.report(elapsed, start, end)
	vips.Shutdown()
}

// input is one test image, probed once.
type input struct {
	path   string
	data   []byte
	header imgmgr.Header
}

func loadInputs(dirs []string) []input {
	var out []input
	for _, dir := range dirs {
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			h, err := vips.ProbeFile(path)
			if err != nil || int64(h.Width)*int64(h.Height)*int64(h.Frames) > 60_000_000 {
				return nil // not an image, or a decompression bomb (ingest refuses those)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			out = append(out, input{path: path, data: data, header: h})
			return nil
		})
	}
	return out
}

type soak struct {
	cfg       *variant.RenderConfig
	inputs    []input
	maxPixels int64
	cancel    float64
	timeout   float64
	total     int

	done     atomic.Int64
	mu       sync.Mutex
	errs     map[string]int // outcome -> count
	ctxEnded int            // renders whose context was cancelled or timed out
	rss      []int64        // sampled every 1% of renders
}

func (s *soak) run(n, conc int, seed uint64) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(rng *rand.Rand) {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				s.one(rng)
				if d := s.done.Add(1); d%int64(max(n/100, 1)) == 0 {
					s.sample(d, n)
				}
			}
		}(rand.New(rand.NewPCG(seed, uint64(w))))
	}
	wg.Wait()
}

var formats []string // -formats

// options returns random processing options with small sizes (so the soak
// does many renders) and every resize type and gravity.
func options(rng *rand.Rand) string {
	w, h := 8+rng.IntN(120), 8+rng.IntN(120)
	switch rng.IntN(7) {
	case 0:
		return fmt.Sprintf("rs:fit:%d:%d", w, h)
	case 1:
		return fmt.Sprintf("rs:fill:%d:%d/g:sm", w, h)
	case 2:
		return fmt.Sprintf("rs:force:%d:%d", w, h)
	case 3:
		return fmt.Sprintf("w:%d/q:%d", w, 30+rng.IntN(70))
	case 4:
		return fmt.Sprintf("rs:fill-down:%d:%d/g:no", w, h)
	case 5:
		return fmt.Sprintf("rs:fill:%d:%d/g:fp:0.3:0.7", w, h)
	}
	return fmt.Sprintf("rs:auto:%d:%d/scp:0", w, h)
}

func (s *soak) pick(rng *rand.Rand) input {
	for {
		in := s.inputs[rng.IntN(len(s.inputs))]
		big := int64(in.header.Width)*int64(in.header.Height)*int64(in.header.Frames) > s.maxPixels
		if !big || rng.IntN(20) == 0 {
			return in
		}
	}
}

// one renders one random variant and records its outcome.
func (s *soak) one(rng *rand.Rand) {
	in := s.pick(rng)
	o, err := variant.ParseString(options(rng), nil)
	must(err)
	format := formats[rng.IntN(len(formats))]
	ctx, cancel := context.WithCancel(context.Background())
	ended := false
	switch r := rng.Float64(); {
	case r < s.cancel:
		ended = true
		t := time.AfterFunc(time.Duration(rng.IntN(20_000))*time.Microsecond, cancel)
		defer t.Stop()
	case r < s.cancel+s.timeout:
		ended = true
		ctx, cancel = context.WithTimeout(ctx, time.Duration(1+rng.IntN(30))*time.Millisecond)
	}
	defer cancel()
	var src *vips.Source
	if rng.IntN(2) == 0 {
		src, err = vips.SourceFile(in.path)
	} else {
		src, err = vips.SourceReader(ctx, strings.NewReader(string(in.data)), int64(len(in.data)))
	}
	if err == nil {
		_, err = s.cfg.Render(ctx, variant.Request{Source: src, Header: in.header, Options: o, Format: format})
	}
	s.record(err, ended)
}

func (s *soak) record(err error, ended bool) {
	kind := "ok"
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
		kind = "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		kind = "timeout"
	default:
		kind = imgmgr.CodeOf(err)
		if kind == "" || kind == "internal" {
			kind = "other: " + err.Error()
		}
	}
	s.mu.Lock()
	s.errs[kind]++
	if ended {
		s.ctxEnded++
	}
	s.mu.Unlock()
}

// settle waits up to a minute for the live libvips objects to return to
// want: an encode abandoned at its render's deadline finishes in the
// background and only then lets its pixels go.
func settle(want vips.Objects) vips.Objects {
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if got := vips.LiveObjects(); got == want || time.Now().After(deadline) {
			return got
		}
	}
}

func (s *soak) sample(done int64, n int) {
	rss := procstat.RSS(os.Getpid())
	s.mu.Lock()
	s.rss = append(s.rss, rss)
	s.mu.Unlock()
	if done%int64(max(n/10, 1)) == 0 {
		log.Printf("soak: %d/%d renders, RSS %.1f MiB, live libvips objects %+v", done, n, float64(rss)/(1<<20), vips.LiveObjects())
	}
}

// rssAt is the RSS sampled at pct percent of the run.
func (s *soak) rssAt(pct int) string {
	if len(s.rss) == 0 {
		return "-"
	}
	i := min(max(len(s.rss)*pct/100-1, 0), len(s.rss)-1)
	return fmt.Sprintf("%.1f MiB", float64(s.rss[i])/(1<<20))
}

func (s *soak) report(elapsed time.Duration, start, end vips.Objects) {
	fmt.Printf("\n| measure | value |\n|---|---|\n")
	fmt.Printf("| renders | %d in %s (%.0f/s), %d inputs |\n", s.done.Load(), elapsed.Round(time.Second),
		float64(s.done.Load())/elapsed.Seconds(), len(s.inputs))
	kinds := make([]string, 0, len(s.errs))
	for k := range s.errs {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Printf("| outcome %s | %d |\n", k, s.errs[k])
	}
	fmt.Printf("| contexts cancelled or timed out (renders) | %d |\n", s.ctxEnded)
	fmt.Printf("| RSS at 10%% / 50%% / 100%% | %s / %s / %s |\n", s.rssAt(10), s.rssAt(50), s.rssAt(100))
	fmt.Printf("| libvips objects before / after | %d / %d (images %d/%d, regions %d/%d, sources %d/%d, operations %d/%d) |\n",
		start.All, end.All, start.Images, end.Images, start.Regions, end.Regions, start.Sources, end.Sources,
		start.Operations, end.Operations)
	fmt.Printf("| leaked libvips objects | %d |\n", end.All-start.All)
	if end.All != start.All {
		fmt.Printf("\nlive libvips objects by type: %v\n", vips.LiveObjectTypes())
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
